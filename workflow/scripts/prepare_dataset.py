from pathlib import Path

from sonoflow.common.logs import log_to
from sonoflow.datasets.build import prepare_dataset

log = log_to(snakemake.log[0])
clips = prepare_dataset(
    snakemake.params.dirs["recordings"],
    snakemake.params.dirs["annotations"],
    snakemake.params.corpus,
    snakemake.params.variant,
    out_dir=Path(snakemake.output.clips).parent,
    key=f"datasets.{snakemake.wildcards.dataset}",
)
log.info("clips per split and label:\n%s", clips.groupby(["split", "label"]).size().to_string())
