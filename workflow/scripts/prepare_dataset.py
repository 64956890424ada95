from pathlib import Path

from sonoflow.common.logs import log_to
from sonoflow.corpus.audio import list_recordings
from sonoflow.datasets.build import prepare_dataset
from sonoflow.datasets.reviewed import ReviewedInput
from sonoflow.review.retraining import reviewed_training_clips

log = log_to(snakemake.log[0])
key = f"datasets.{snakemake.wildcards.dataset}"
variant = snakemake.params.variant
reviewed = None
if variant["reviewed"]:
    reviews = snakemake.params.reviews
    sources = {
        name: {**reviews[name], "sample": sample}
        for name, sample in zip(reviews, snakemake.input.samples)
    }
    labels = variant["labels"] or snakemake.params.corpus["labels"]
    reviewed = ReviewedInput(
        clips=reviewed_training_clips(sources, labels, key),
        roots={name: review["recordings"] for name, review in reviews.items()},
        benchmarks={
            name: list_recordings(folder, f"benchmarks.{name}.recordings")
            for name, folder in snakemake.params.benchmarks.items()
        },
    )
clips = prepare_dataset(
    snakemake.params.dirs["recordings"],
    snakemake.params.dirs["annotations"],
    snakemake.params.corpus,
    variant,
    out_dir=Path(snakemake.output.clips).parent,
    key=key,
    reviewed=reviewed,
)
log.info("clips per split and label:\n%s", clips.groupby(["split", "label"]).size().to_string())
