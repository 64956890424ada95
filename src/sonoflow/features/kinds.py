"""Front-end kinds as plain config: which ones give vectors, their fixed window, rate and
width, and the checks config validation makes. Free of torch, because Snakemake runs the
checks while it builds the DAG.

A vector front-end (`statistics`, `embedding`, `concat`) stores one vector per frame: frame i
describes the audio [i * hop_s, i * hop_s + window_s), so a model window is one frame and
clips and prediction windows index into the cache as into spectrogram frames.
"""

from __future__ import annotations

from sonoflow.common.schema import ConfigError

SPECTROGRAM = "spectrogram"
VECTOR_TYPES = ("statistics", "embedding", "concat")
# Embedding models whose input is fixed by their training: (sample rate, window s, width).
# VGGish: 96 frames of 25 ms every 10 ms (its "0.96 s" patch spans 0.975 s of audio).
FIXED_EMBEDDINGS = {"vggish": (16000, 0.975, 128), "birdnet": (48000, 3.0, 1024)}
# The backbone made for vector front-ends; every other backbone takes spectrograms.
VECTOR_BACKBONE = "mlp"


def is_vector(features: dict) -> bool:
    return features.get("type", SPECTROGRAM) in VECTOR_TYPES


def rate_and_window(features: dict) -> tuple[int, float]:
    """(sample rate, window s) of a front-end: fixed for vggish and birdnet, else the config's."""
    if features.get("type") == "embedding" and features.get("model") in FIXED_EMBEDDINGS:
        rate, window_s, _ = FIXED_EMBEDDINGS[features["model"]]
        return rate, window_s
    if features.get("type") == "concat":
        return rate_and_window(features["parts"][0])
    return int(features["sample_rate"]), float(features["window_s"])


def resolved_features(section: dict, name: str) -> dict:
    """features.NAME with a concat's `parts` (names) replaced by the parts' configs, so one
    job's params hold all it needs and a part's edit reruns the concat's cache."""
    features = dict(section[name])
    if features.get("type") == "concat":
        features["parts"] = [resolved_features(section, part) for part in features["parts"]]
    return features


def model_files(features: dict) -> list[str]:
    """Files a (resolved) front-end reads besides audio: VGGish weights, an ONNX model."""
    if features.get("type") == "concat":
        return [f for part in features["parts"] for f in model_files(part)]
    if features.get("type") == "embedding":
        key = {"vggish": "weights", "onnx": "path"}.get(features.get("model"))
        return [features[key]] if key and features.get(key) else []
    return []


def check_features(section: dict) -> None:
    """Checks the schema cannot make, per features.NAME; ConfigError names the key."""
    for name, features in section.items():
        key = f"features.{name}"
        kind = features.get("type", SPECTROGRAM)
        if kind == "embedding":
            _check_embedding(features, key)
        if kind == "concat":
            _check_concat(section, features, key)
        if kind in VECTOR_TYPES and kind != "concat":
            _check_whole_samples(features, key)
        if kind == "statistics":
            _check_statistics_window(features, key)


def _check_embedding(features: dict, key: str) -> None:
    model = features.get("model")
    needed = {"vggish": "weights", "onnx": "path"}.get(model)
    if needed and not features.get(needed):
        raise ConfigError(f"invalid config:\n  {key}.{needed}: model {model} needs a file")


def _check_whole_samples(features: dict, key: str) -> None:
    rate, window_s = rate_and_window(features)
    for field, seconds in (("hop_s", float(features["hop_s"])), ("window_s", window_s)):
        samples = seconds * rate
        if abs(samples - round(samples)) > 1e-6:
            raise ConfigError(
                f"invalid config:\n  {key}.{field}: {seconds} s is not a whole number of "
                f"samples at {rate} Hz"
            )


def _check_statistics_window(features: dict, key: str) -> None:
    """A standard deviation over time needs at least two STFT frames in the window."""
    least = (int(features["n_fft"]) + int(features["hop_length"])) / int(features["sample_rate"])
    if float(features["window_s"]) < least:
        raise ConfigError(
            f"invalid config:\n  {key}.window_s: {features['window_s']} s holds fewer than two "
            f"STFT frames (n_fft + hop_length samples, {least:g} s)"
        )


def _check_concat(section: dict, features: dict, key: str) -> None:
    parts = features.get("parts") or []
    if not parts:
        raise ConfigError(f"invalid config:\n  {key}.parts: concat needs the names of its parts")
    for part in parts:
        if part not in section:
            raise ConfigError(
                f"invalid config:\n  {key}.parts: {part!r} is not one of the features "
                f"{sorted(section)}"
            )
        kind = section[part].get("type", SPECTROGRAM)
        if kind not in ("statistics", "embedding"):
            raise ConfigError(
                f"invalid config:\n  {key}.parts: {part!r} is a {kind} front-end; concat "
                "joins statistics and embedding front-ends"
            )
    shapes = {p: (*rate_and_window(section[p]), float(section[p]["hop_s"])) for p in parts}
    if len(set(shapes.values())) > 1:
        described = ", ".join(
            f"{p}: {r} Hz, window {w} s, hop {h} s" for p, (r, w, h) in shapes.items()
        )
        raise ConfigError(
            f"invalid config:\n  {key}.parts: parts must share sample rate, window and hop "
            f"(features.PART.sample_rate, window_s, hop_s); they have {described}"
        )


def check_hop(features: dict, features_key: str, hop_s: float, hop_key: str) -> None:
    """Prediction windows of a (resolved) vector front-end start on its cached vectors."""
    if not is_vector(features):
        return
    frame_s = frame_hop(features)
    steps = hop_s / frame_s
    if steps < 1 - 1e-9 or abs(steps - round(steps)) > 1e-6:
        raise ConfigError(
            f"invalid config:\n  {hop_key}: {hop_s} s is not a multiple of {features_key}.hop_s "
            f"({frame_s} s)"
        )


def frame_hop(features: dict) -> float:
    """Seconds between the vectors of a (resolved) vector front-end: a concat's parts'."""
    if features.get("type") == "concat":
        return frame_hop(features["parts"][0])
    return float(features["hop_s"])


def check_pairing(features: dict, features_key: str, model: dict, model_key: str) -> None:
    """A vector front-end takes the mlp backbone and nothing else, and the reverse; the
    spectrogram augmentations do not apply to vectors."""
    vector, mlp = is_vector(features), model["backbone"] == VECTOR_BACKBONE
    if vector != mlp:
        kind = features.get("type", SPECTROGRAM)
        wants = f"backbone {VECTOR_BACKBONE}" if vector else "a spectrogram backbone"
        raise ConfigError(
            f"invalid config:\n  {model_key}.backbone: {model['backbone']} does not fit "
            f"{features_key}.type {kind}, which needs {wants}"
        )
    if vector:
        for name in ("spec_augment", "gain", "noise"):
            if model.get("augment", {}).get(name, {}).get("enabled"):
                raise ConfigError(
                    f"invalid config:\n  {model_key}.augment.{name}.enabled: a spectrogram "
                    f"augmentation, which {features_key} (a vector front-end) cannot take"
                )
