from sonoflow.common.logs import log_to
from sonoflow.common.tables import read_table
from sonoflow.datasets.exports import export_animal_spot, export_spectrogram_pngs

log = log_to(snakemake.log[0])
clips = read_table(snakemake.input.clips)
recordings = read_table(snakemake.input.recordings)
export = {"animal_spot": export_animal_spot, "spectrograms": export_spectrogram_pngs}
export[snakemake.wildcards.export](
    clips,
    recordings,
    snakemake.output.folder,
    snakemake.params.export["sample_rate"],
    snakemake.params.channel,
)
log.info("exported %d clips to %s", len(clips), snakemake.output.folder)
