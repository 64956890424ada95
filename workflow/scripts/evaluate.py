import pandas as pd

from sonoflow.atomic import write_csv
from sonoflow.evaluation import evaluate_scores, read_ground_truth
from sonoflow.logs import log_to

log = log_to(snakemake.log[0])
scores = pd.concat([pd.read_parquet(p) for p in snakemake.input.scores], ignore_index=True)
truth = read_ground_truth(
    snakemake.params.annotations, list(scores["recording"].unique()), snakemake.params.label_column
)
metrics = evaluate_scores(
    scores,
    truth,
    snakemake.params.labels,
    snakemake.params.evaluation,
    events_dir=snakemake.output.events,
)
write_csv(snakemake.output.metrics, metrics, float_format="%.6f")
log.info("metrics:\n%s", metrics.to_string())
