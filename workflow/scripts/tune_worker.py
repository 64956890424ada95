from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from pathlib import Path

import pandas as pd

from sonoflow.common.atomic import write_json
from sonoflow.common.logs import log_to
from sonoflow.models.registry import with_pretrained_file
from sonoflow.tuning.worker import tune_worker

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
summary = tune_worker(
    pd.read_csv(snakemake.input.clips),
    cache_dir=Path(snakemake.input.cache).parent,
    features=snakemake.params.features,
    labels=snakemake.params.labels,
    model_config=with_pretrained_file(snakemake.params.model, snakemake.input.get("weights")),
    tuning=snakemake.params.tuning,
    journal=snakemake.params.journal,
    worker=int(snakemake.wildcards.worker),
    threads=snakemake.threads,
    metadata_csv=snakemake.params.metadata or None,
)
write_json(snakemake.output[0], summary)
