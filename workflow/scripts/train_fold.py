from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from pathlib import Path

from sonoflow.common.logs import log_startup_at_first_forward, log_to
from sonoflow.datasets.splits import cv_folds
from sonoflow.models.registry import with_pretrained_file
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import read_tuned_params, train_fold

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
log_startup_at_first_forward(log)
data = TrainingData.from_job(
    snakemake.input.clips,
    snakemake.input.cache,
    snakemake.params,
    snakemake.input.get("reviewed_caches", []),
)
folds = cv_folds(data.clips, snakemake.params.cv["folds"], snakemake.params.cv["seed"])
tuned = None
if "best_params" in snakemake.input.keys():
    tuned, note = read_tuned_params(snakemake.input.best_params)
    log.info("tuning: %s; parameters replaced: %s", note, tuned)
results = train_fold(
    data,
    folds,
    int(snakemake.wildcards.fold),
    model_config=with_pretrained_file(snakemake.params.model, snakemake.input.get("weights")),
    out_dir=Path(snakemake.output.model).parent,
    threads=snakemake.threads,
    checkpoint_path=snakemake.params.checkpoint,
    tuned_params=tuned,
)
log.info("best epoch %s: %s", results["best_epoch"], results["metrics"])
