from pathlib import Path

import torch

from sonoflow.common.logs import log_to
from sonoflow.corpus.audio import list_recordings
from sonoflow.features.cache import build_cache

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)  # the STFT's threads: those the rule declares
recordings = list_recordings(snakemake.params.recordings)
index = build_cache(
    recordings,
    snakemake.params.features,
    Path(snakemake.output.index).parent,
    channel=snakemake.params.audio["channel"],
    skip_bad=snakemake.params.audio["bad_audio"] == "skip",
    key=f"features.{snakemake.wildcards.features}",
)
log.info("cached %d recordings, %d frames in all", len(index), index["frames"].sum())
