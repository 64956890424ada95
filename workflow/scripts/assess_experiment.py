from pathlib import Path

import torch

from sonoflow.common.logs import log_to
from sonoflow.common.tables import read_table
from sonoflow.evaluation.assessment import assess_experiment

log = log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
report = assess_experiment(
    read_table(snakemake.input.clips),
    snakemake.input.models,
    snakemake.input.results,
    snakemake.input.histories,
    cache_dir=Path(snakemake.input.cache).parent,
    out=dict(snakemake.output.items()),
    metadata_csv=snakemake.params.metadata or None,
    best_params=snakemake.input.get("best_params"),
    extra_cache_dirs=[Path(index).parent for index in snakemake.input.get("reviewed_caches", [])],
)
log.info("test split: %s", {k: v for k, v in report.items() if not isinstance(v, dict)})
