"""Front-end kinds as plain config: which ones give vectors, their window and rate (from
the registry's table), and the checks config validation makes. Free of torch, because
Snakemake runs the checks while it builds the DAG.

A vector front-end (`statistics`, `embedding`, `concat`) stores one vector per frame: frame i
describes the audio [i * hop_s, i * hop_s + window_s), so a model window is one frame and
clips and prediction windows index into the cache as into spectrogram frames.
"""

from __future__ import annotations

from sonoflow.common.schema import config_error
from sonoflow.features.onnx_file import onnx_file_problem
from sonoflow.features.registry import SPECTROGRAM, kind_of

# The backbone made for vector front-ends; every other backbone takes spectrograms.
VECTOR_BACKBONE = "mlp"


def is_vector(features: dict) -> bool:
    return kind_of(features).vector


def rate_and_window(features: dict) -> tuple[int, float]:
    """(sample rate, window s) of a front-end: fixed for vggish and birdnet, a concat's first
    part's (a resolved concat), else the config's."""
    kind = kind_of(features)
    if kind.sample_rate is not None:
        return kind.sample_rate, kind.window_s
    if kind.joins_parts:
        return rate_and_window(features["parts"][0])
    return int(features["sample_rate"]), float(features["window_s"])


def resolved_features(section: dict, name: str) -> dict:
    """features.NAME with a concat's `parts` (names) replaced by the parts' configs, so one
    job's params hold all it needs and a part's edit reruns the concat's cache."""
    features = dict(section[name])
    if kind_of(features).joins_parts:
        features["parts"] = [resolved_features(section, part) for part in features["parts"]]
    return features


def model_files(features: dict) -> list[str]:
    """Files a (resolved) front-end reads besides audio: VGGish weights, an ONNX model."""
    kind = kind_of(features)
    if kind.joins_parts:
        return [f for part in features["parts"] for f in model_files(part)]
    key = kind.file_key
    return [features[key]] if key and features.get(key) else []


def check_features(section: dict) -> None:
    """Checks the schema cannot make, per features.NAME; ConfigError names the key."""
    for name, features in section.items():
        key = f"features.{name}"
        kind = kind_of(features)
        if kind.file_key:
            _check_file(features, kind.file_key, key)
        if kind.joins_parts:
            _check_concat(section, features, key)
        elif kind.vector:
            _check_whole_samples(features, key)
        if kind.min_stft_frames:
            _check_stft_frames(features, kind.min_stft_frames, key)
        if kind.type == SPECTROGRAM:
            _check_fft_in_window(features, key)


def _check_file(features: dict, needed: str, key: str) -> None:
    if not features.get(needed):
        raise config_error(f"{key}.{needed}", f"model {features.get('model')} needs a file")
    if features.get("model") == "onnx":
        problem = onnx_file_problem(features[needed])
        if problem:
            raise config_error(
                f"{key}.{needed}",
                f"{features[needed]} is not an ONNX model ({problem}); give the .onnx file "
                "the model was exported to",
            )


def _check_whole_samples(features: dict, key: str) -> None:
    rate, window_s = rate_and_window(features)
    for field, seconds in (("hop_s", float(features["hop_s"])), ("window_s", window_s)):
        samples = seconds * rate
        if abs(samples - round(samples)) > 1e-6:
            raise config_error(
                f"{key}.{field}", f"{seconds} s is not a whole number of samples at {rate} Hz"
            )


def _check_stft_frames(features: dict, frames: int, key: str) -> None:
    """A standard deviation over time needs at least two STFT frames in the window."""
    samples = int(features["n_fft"]) + (frames - 1) * int(features["hop_length"])
    least = samples / int(features["sample_rate"])
    if float(features["window_s"]) < least:
        raise config_error(
            f"{key}.window_s",
            f"{features['window_s']} s holds fewer than "
            f"{frames} STFT frames (n_fft + {frames - 1} hop_length samples, {least:g} s)",
        )


def _check_fft_in_window(features: dict, key: str) -> None:
    """One STFT frame (n_fft samples) fits in a model window: a longer one would take every
    window's frames from audio beyond it (the window padded)."""
    rate, n_fft = int(features["sample_rate"]), int(features["n_fft"])
    samples = float(features["window_s"]) * rate
    if n_fft > samples + 1e-6:
        raise config_error(
            f"{key}.n_fft",
            f"{n_fft} samples is longer than {key}.window_s {features['window_s']} s "
            f"({samples:g} samples at {rate} Hz); lower n_fft to at most {int(samples)} or "
            f"raise window_s to at least {n_fft / rate:g} s",
        )


def _check_concat(section: dict, features: dict, key: str) -> None:
    parts = features.get("parts") or []
    if not parts:
        raise config_error(f"{key}.parts", "concat needs the names of its parts")
    for part in parts:
        if part not in section:
            raise config_error(
                f"{key}.parts", f"{part!r} is not one of the features {sorted(section)}"
            )
        part_kind = kind_of(section[part])
        if not part_kind.vector or part_kind.joins_parts:
            raise config_error(
                f"{key}.parts",
                f"{part!r} is a {part_kind.type} front-end; concat "
                "joins statistics and embedding front-ends",
            )
    shapes = {p: (*rate_and_window(section[p]), float(section[p]["hop_s"])) for p in parts}
    if len(set(shapes.values())) > 1:
        described = ", ".join(
            f"{p}: {r} Hz, window {w} s, hop {h} s" for p, (r, w, h) in shapes.items()
        )
        raise config_error(
            f"{key}.parts",
            f"parts must share sample rate, window and hop "
            f"(features.PART.sample_rate, window_s, hop_s); they have {described}",
        )


def hop_frames(hop_s: float, frame_s: float) -> int | None:
    """Frames between window starts when `hop_s` is a positive whole number of frames of
    `frame_s` seconds, else None: the one hop check of config validation (spectrogram and
    vector front-ends) and of prediction, so a hop that validation passes never fails a job.
    The tolerances absorb float error only (hop_s / frame_s of decimal seconds)."""
    steps = hop_s / frame_s
    if steps < 1 - 1e-9 or abs(steps - round(steps)) > 1e-6:
        return None
    return int(round(steps))


def check_hop(features: dict, features_key: str, hop_s: float, hop_key: str) -> None:
    """Prediction windows of a (resolved) vector front-end start on its cached vectors."""
    if not is_vector(features):
        return
    frame_s = frame_hop(features)
    if hop_frames(hop_s, frame_s) is None:
        raise config_error(
            hop_key, f"{hop_s} s is not a multiple of {features_key}.hop_s ({frame_s} s)"
        )


def frame_hop(features: dict) -> float:
    """Seconds between the vectors of a (resolved) vector front-end: a concat's parts'."""
    if kind_of(features).joins_parts:
        return frame_hop(features["parts"][0])
    return float(features["hop_s"])


def check_pairing(features: dict, features_key: str, model: dict, model_key: str) -> None:
    """A vector front-end takes the mlp backbone and nothing else, and the reverse; the
    spectrogram augmentations do not apply to vectors."""
    vector, mlp = is_vector(features), model["backbone"] == VECTOR_BACKBONE
    if vector != mlp:
        kind = kind_of(features).type
        wants = f"backbone {VECTOR_BACKBONE}" if vector else "a spectrogram backbone"
        raise config_error(
            f"{model_key}.backbone",
            f"{model['backbone']} does not fit {features_key}.type {kind}, which needs {wants}",
        )
    if vector:
        for name in ("spec_augment", "gain", "noise"):
            if model.get("augment", {}).get(name, {}).get("enabled"):
                raise config_error(
                    f"{model_key}.augment.{name}.enabled",
                    f"a spectrogram "
                    f"augmentation, which {features_key} (a vector front-end) cannot take",
                )
