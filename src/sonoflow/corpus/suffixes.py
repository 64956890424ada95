"""File suffixes of recordings, free of imports: Snakemake reads them while it builds the DAG."""

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
