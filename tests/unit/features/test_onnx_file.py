"""A file given as an ONNX model that is not one stops config validation naming
features.NAME.path (a cheap look, no onnxruntime), and the cache job names it too."""

import copy
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from sonoflow.common.schema import ConfigError
from sonoflow.config import validate_config
from sonoflow.features.onnx_file import onnx_file_problem

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
BASE = yaml.safe_load((ROOT / "config.yaml").read_text())
# A graph field (7, length-delimited) whose 3 bytes are no GraphProto: passes the cheap look.
FAKE_GRAPH = bytes([0x08, 0x07, 0x3A, 0x03, 0xFF, 0xFF, 0xFF])


def tiny_model(path: Path) -> Path:
    """An ONNX model (y = x, one float input of any shape), written by the onnx package."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "samples"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "samples"])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_an_onnx_model_passes_and_other_files_say_why_not(tmp_path):
    model = tiny_model(tmp_path / "tiny.onnx")
    assert onnx_file_problem(model) is None
    data = model.read_bytes()
    files = {
        "notes.onnx": b"field notes, not a model\n",
        "model.pt": b"PK\x03\x04" + bytes(60),  # a torch checkpoint is a zip
        "half.onnx": data[: len(data) // 2],
        "empty.onnx": b"",
        "version_only.onnx": b"\x08\x07",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert "is not a protobuf field" in onnx_file_problem(tmp_path / "notes.onnx")
    assert "is not a protobuf field" in onnx_file_problem(tmp_path / "model.pt")
    assert "runs past the end of the file" in onnx_file_problem(tmp_path / "half.onnx")
    assert onnx_file_problem(tmp_path / "empty.onnx") == "the file is empty"
    assert onnx_file_problem(tmp_path / "version_only.onnx") == "it holds no model graph"
    assert onnx_file_problem(tmp_path / "missing.onnx") == "no such file"
    assert onnx_file_problem(tmp_path) == "not a file"


def _onnx_config(path) -> dict:
    config = copy.deepcopy(BASE)
    config["features"]["loud"] = {
        "type": "embedding",
        "model": "onnx",
        "path": str(path),
        "sample_rate": 16000,
        "window_s": 0.25,
        "hop_s": 0.05,
    }
    return config


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"field notes, not a model\n", "byte 0 is not a protobuf field of an ONNX ModelProto"),
        (None, "no such file"),
    ],
)
def test_validation_names_the_path_key_of_a_file_that_is_no_onnx_model(tmp_path, content, reason):
    path = tmp_path / "loud.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        validate_config(_onnx_config(path), SCHEMA)
    assert f"features.loud.path: {path} is not an ONNX model ({reason})" in str(err.value)
    assert "give the .onnx file the model was exported to" in str(err.value)


def test_validation_passes_an_onnx_model(tmp_path):
    validate_config(_onnx_config(tiny_model(tmp_path / "loud.onnx")), SCHEMA)


def test_the_cache_job_names_the_key_when_onnxruntime_refuses_the_file(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx front-end needs onnxruntime")
    from sonoflow.features.cache import build_cache

    path = tmp_path / "fake.onnx"
    path.write_bytes(FAKE_GRAPH)
    assert onnx_file_problem(path) is None  # past the cheap look: onnxruntime decides
    sf.write(tmp_path / "tape.wav", np.zeros(16000, np.float32), 16000)
    features = _onnx_config(path)["features"]["loud"]
    with pytest.raises(ValueError) as err:
        build_cache([tmp_path / "tape.wav"], features, tmp_path / "cache", key="features.loud")
    message = str(err.value)
    assert f"{path}: onnxruntime cannot load this file as an ONNX model (features.loud.path)" in (
        message
    )
    assert "features.NAME" not in message
