from sonoflow.common.logs import log_to
from sonoflow.evaluation.summary import write_summary

log = log_to(snakemake.log[0])
metrics = write_summary(
    snakemake.input.metrics, snakemake.input.per_tape, snakemake.input.histories, snakemake.output
)
log.info("%d metric rows", len(metrics))
