import json

from sonoflow.common.logs import log_to
from sonoflow.review.calibrate_run import CalibrateOutputs, run_calibrate
from sonoflow.review.calibration import CalibrationSettings

log = log_to(snakemake.log[0])
run = snakemake.params.settings
with open(snakemake.input.thresholds) as handle:
    labels = list(json.load(handle))
settings = CalibrationSettings(
    thresholds=run["thresholds"],
    target_precision=run["target_precision"],
    min_verdicts=run["min_verdicts"],
    resamples=run["resamples"],
    seed=run["seed"],
)
out = snakemake.output
table = run_calibrate(
    snakemake.input.sample,
    snakemake.input.design,
    run["verdicts"],
    snakemake.input.detections,
    snakemake.input.summary,
    labels,
    settings,
    run["stratum"],
    CalibrateOutputs(
        out.calibration, out.detections, out.call_rates, out.calibration_plot, out.call_rates_plot
    ),
)
log.info("calibration:\n%s", table.to_string())
