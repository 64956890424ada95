from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from sonoflow.common.atomic import write_json
from sonoflow.common.logs import log_to
from sonoflow.models.registry import with_pretrained_file
from sonoflow.training.data import TrainingData
from sonoflow.tuning.worker import tune_worker

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
data = TrainingData.from_job(
    snakemake.input.clips,
    snakemake.input.cache,
    snakemake.params,
    snakemake.input.get("reviewed_caches", []),
)
summary = tune_worker(
    data,
    model_config=with_pretrained_file(snakemake.params.model, snakemake.input.get("weights")),
    tuning=snakemake.params.tuning,
    journal=snakemake.params.journal,
    worker=int(snakemake.wildcards.worker),
    threads=snakemake.threads,
)
write_json(snakemake.output[0], summary)
