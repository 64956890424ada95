from pathlib import Path

from sonoflow.audio import list_recordings
from sonoflow.features import FeatureSettings
from sonoflow.logs import log_to
from sonoflow.spectrogram_cache import build_cache

log = log_to(snakemake.log[0])
recordings = list_recordings(snakemake.params.recordings)
index = build_cache(
    recordings,
    FeatureSettings.from_config(snakemake.params.features),
    Path(snakemake.output.index).parent,
    channel=snakemake.params.audio["channel"],
    skip_bad=snakemake.params.audio["bad_audio"] == "skip",
)
log.info("cached %d recordings, %d frames in all", len(index), index["frames"].sum())
