from pathlib import Path

import torch

from sonoflow.common.logs import log_to
from sonoflow.common.tables import read_table
from sonoflow.datasets.reviewed import review_prefix, sampled_recordings
from sonoflow.features.cache import build_cache

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
review = snakemake.wildcards.name
recordings = sampled_recordings(read_table(snakemake.input.sample))
Path(snakemake.output.spectrograms).mkdir(parents=True, exist_ok=True)  # also when none
index = build_cache(
    [Path(snakemake.params.recordings) / path for path in recordings["path"]],
    snakemake.params.features,
    Path(snakemake.output.index).parent,
    channel=snakemake.params.channel,
    key=f"features.{snakemake.wildcards.features}",
    names=recordings["recording"].tolist(),
    prefix=review_prefix(review),
)
log.info(
    "cached %d recordings of review %s, %d frames in all", len(index), review, index["frames"].sum()
)
