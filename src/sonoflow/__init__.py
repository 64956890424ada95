"""sonoflow: train and benchmark detectors for animal sounds from annotated field recordings."""

__version__ = "0.1.0"
