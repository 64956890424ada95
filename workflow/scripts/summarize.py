from sonoflow.common.logs import log_to
from sonoflow.evaluation.summary import write_summary

COST_INPUTS = ("train_benchmarks", "fold_results", "predict_benchmarks", "predict_runs")

log = log_to(snakemake.log[0])
metrics = write_summary(
    snakemake.input.metrics,
    snakemake.input.per_tape,
    snakemake.input.histories,
    snakemake.output,
    bootstrap=snakemake.params.bootstrap,
    cost={k: getattr(snakemake.input, k) for k in COST_INPUTS},
)
log.info("%d metric rows", len(metrics))
