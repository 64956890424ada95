import pandas as pd

from sonoflow.common.atomic import write_csv
from sonoflow.common.logs import log_to
from sonoflow.evaluation.benchmark import evaluate_scores, excerpt_threshold, recording_events
from sonoflow.evaluation.bootstrap import add_held_out, add_intervals
from sonoflow.evaluation.excerpt import choose_excerpt, plot_excerpt
from sonoflow.evaluation.ground_truth import (
    check_scored,
    read_ground_truth,
    references_per_recording,
)

log = log_to(snakemake.log[0])
settings = snakemake.params.evaluation
labels = snakemake.params.labels
source = snakemake.params.truth
scores = pd.concat([pd.read_parquet(p) for p in snakemake.input.scores], ignore_index=True)
ground_truth = read_ground_truth(source["recordings"], source["annotations"], source)
check_scored(list(scores["recording"].unique()), ground_truth, source["name"])
log.info("reference events scored:\n%s", references_per_recording(ground_truth, labels))
truth = ground_truth.annotations
result = evaluate_scores(scores, truth, labels, settings, events_dir=snakemake.output.events)
metrics = add_intervals(result.metrics, result.per_tape, labels, settings["bootstrap"])
metrics = add_held_out(metrics, result.per_tape, labels, settings["held_out"])
write_csv(snakemake.output.metrics, metrics, float_format="%.6f")
write_csv(snakemake.output.per_tape, result.per_tape, float_format="%.6f")
log.info("metrics:\n%s", result.metrics.to_string())

threshold = excerpt_threshold(result.metrics)
recording, start, end = choose_excerpt(scores, truth, settings["excerpt_s"])
audio = dict(zip(ground_truth.recordings["recording"], ground_truth.recordings["file"]))[recording]
events = recording_events(scores[scores["recording"] == recording], labels, settings, threshold)
plot_excerpt(
    audio,
    (start, end),
    truth[truth["recording"] == recording],
    events,
    threshold,
    snakemake.output.excerpt,
)
