from pathlib import Path

from sonoflow.dataset import prepare_dataset
from sonoflow.logs import log_to

log = log_to(snakemake.log[0])
clips = prepare_dataset(
    snakemake.params.dirs["recordings"],
    snakemake.params.dirs["annotations"],
    snakemake.params.corpus,
    snakemake.params.variant,
    out_dir=Path(snakemake.output.clips).parent,
)
log.info("clips per split and label:\n%s", clips.groupby(["split", "label"]).size().to_string())
