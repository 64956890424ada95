from sonoflow.common.atomic import write_json
from sonoflow.common.logs import log_to
from sonoflow.common.tables import read_table
from sonoflow.detection.collect import CollectSettings, collect_detections, labels_of
from sonoflow.detection.figures import plot_detections
from sonoflow.detection.thresholds import resolve_thresholds

log = log_to(snakemake.log[0])
run = snakemake.params.run
name = snakemake.wildcards.name
labels = labels_of(snakemake.input.scores[0])
thresholds = resolve_thresholds(
    run["threshold"], labels, snakemake.input.get("metrics"), f"detect.{name}.threshold"
)
log.info("thresholds: %s", thresholds)
write_json(snakemake.output.thresholds, thresholds)
settings = CollectSettings(thresholds, run["events"], run["formats"], run["label_column"])
out_dir = snakemake.output.summary.rsplit("/", 1)[0]
summary = collect_detections(
    snakemake.input.scores, snakemake.input.status, run["recordings"], settings, out_dir
)
log.info(
    "%d recordings scored, %d skipped; events per class: %s",
    (summary["status"] == "scored").sum(),
    (summary["status"] == "skipped").sum(),
    {lab: int(summary[f"events_{lab}"].sum()) for lab in labels},
)
# detections.csv was written recording by recording, so that building a season's events
# never holds them all; the plot reads the finished table back.
detections = read_table(snakemake.output.detections)
plot_detections(detections, labels, snakemake.output.plot)
