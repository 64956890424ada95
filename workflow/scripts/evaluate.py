import pandas as pd

from sonoflow.common.atomic import write_csv
from sonoflow.common.logs import log_to
from sonoflow.corpus.audio import list_recordings
from sonoflow.evaluation.benchmark import ALL, evaluate_scores, read_ground_truth, recording_events
from sonoflow.evaluation.excerpt import choose_excerpt, plot_excerpt

log = log_to(snakemake.log[0])
settings = snakemake.params.evaluation
labels = snakemake.params.labels
scores = pd.concat([pd.read_parquet(p) for p in snakemake.input.scores], ignore_index=True)
truth = read_ground_truth(
    snakemake.params.annotations,
    list(scores["recording"].unique()),
    snakemake.params.label_column,
    settings["quality_column"],
)
result = evaluate_scores(scores, truth, labels, settings, events_dir=snakemake.output.events)
write_csv(snakemake.output.metrics, result.metrics, float_format="%.6f")
write_csv(snakemake.output.per_tape, result.per_tape, float_format="%.6f")
log.info("metrics:\n%s", result.metrics.to_string())

best = result.metrics.loc[result.metrics["class"] == ALL, "best_f1_threshold"].dropna()
threshold = float(best.iloc[0]) if len(best) else 0.5
recording, start, end = choose_excerpt(scores, truth, settings["excerpt_s"])
audio = {p.stem: p for p in list_recordings(snakemake.params.recordings)}[recording]
events = recording_events(scores[scores["recording"] == recording], labels, settings, threshold)
plot_excerpt(
    audio,
    (start, end),
    truth[truth["recording"] == recording],
    events,
    threshold,
    snakemake.output.excerpt,
)
