import pandas as pd

from sonoflow.common.logs import log_to
from sonoflow.datasets.exports import export_animal_spot, export_spectrogram_pngs

log = log_to(snakemake.log[0])
clips = pd.read_csv(snakemake.input.clips, keep_default_na=False, dtype={"tape": str})
recordings = pd.read_csv(snakemake.input.recordings)
export = {"animal_spot": export_animal_spot, "spectrograms": export_spectrogram_pngs}
export[snakemake.wildcards.export](
    clips,
    recordings,
    snakemake.output.folder,
    snakemake.params.export["sample_rate"],
    snakemake.params.channel,
)
log.info("exported %d clips to %s", len(clips), snakemake.output.folder)
