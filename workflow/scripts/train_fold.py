from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from pathlib import Path

import pandas as pd

from sonoflow.common.logs import log_startup_at_first_forward, log_to
from sonoflow.datasets.splits import cv_folds
from sonoflow.models.registry import with_pretrained_file
from sonoflow.training.fold import read_tuned_params, train_fold

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
log_startup_at_first_forward(log)
clips = pd.read_csv(snakemake.input.clips)
folds = cv_folds(clips, snakemake.params.cv["folds"], snakemake.params.cv["seed"])
tuned = None
if "best_params" in snakemake.input.keys():
    tuned, note = read_tuned_params(snakemake.input.best_params)
    log.info("tuning: %s; parameters replaced: %s", note, tuned)
results = train_fold(
    clips,
    folds,
    int(snakemake.wildcards.fold),
    cache_dir=Path(snakemake.input.cache).parent,
    features=snakemake.params.features,
    labels=snakemake.params.labels,
    model_config=with_pretrained_file(snakemake.params.model, snakemake.input.get("weights")),
    out_dir=Path(snakemake.output.model).parent,
    threads=snakemake.threads,
    checkpoint_path=snakemake.params.checkpoint,
    metadata_csv=snakemake.params.metadata or None,
    tuned_params=tuned,
)
log.info("best epoch %s: %s", results["best_epoch"], results["metrics"])
