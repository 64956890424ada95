from sonoflow.common.logs import log_to
from sonoflow.review.build import build_review

log = log_to(snakemake.log[0])
params = snakemake.params
sample = build_review(
    snakemake.wildcards.name,
    snakemake.input.detections,
    snakemake.input.thresholds,
    snakemake.input.scores,
    params.recordings,
    params.review,
    snakemake.output.sample.rsplit("/", 1)[0],
    params.history,
    params.channel,
)
log.info("wrote %d clips, their tables and the page", len(sample))
