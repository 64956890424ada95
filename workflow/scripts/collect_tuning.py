from sonoflow.common.logs import log_to
from sonoflow.tuning.report import write_report
from sonoflow.tuning.study import load_study, workers_study

log = log_to(snakemake.log[0])
study = load_study(snakemake.params.journal, workers_study(list(snakemake.input)))
best = write_report(study, snakemake.params.tuning["trials"], dict(snakemake.output))
log.info(
    "%s (configured values: macro-F1 %.4f; chosen: trial %d, %.4f, %s)",
    best["note"],
    best["configured"]["value"],
    best["trial"],
    best["value"],
    best["params"],
)
