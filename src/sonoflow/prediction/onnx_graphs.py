"""torch modules written as ONNX graphs, and run with ONNX Runtime on the CPU.

Export goes through torch's TorchScript-based exporter (`dynamo=False`), which needs
nothing beyond torch and writes real-valued graphs only; the spectrogram's STFT is therefore
a convolution (features.window_frontend), not ONNX's complex STFT operator. Every graph has
one dynamic axis, the batch.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

OPSET = 17


def onnx_bytes(
    module: nn.Module,
    example: torch.Tensor | tuple[torch.Tensor, ...],
    input_name: str | list[str] = "input",
    output_name: str = "output",
) -> bytes:
    """`module` (eval mode, one tensor or a tuple of tensors in, one out) as an ONNX model
    whose first axis of every input and of the output is dynamic (named `batch`)."""
    examples = example if isinstance(example, tuple) else (example,)
    inputs = [input_name] if isinstance(input_name, str) else list(input_name)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript-based exporter is marked deprecated; the other one needs onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module.eval(),
            examples,
            buffer,
            input_names=inputs,
            output_names=[output_name],
            dynamic_axes={name: {0: "batch"} for name in [*inputs, output_name]},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def onnx_session(model: bytes | str | Path, threads: int = 1):
    """An ONNX Runtime CPU session over `model` (bytes or a file) with `threads` threads."""
    import onnxruntime  # only the paths that run ONNX import it

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no per-node placement notes in job logs
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(
        source, sess_options=options, providers=["CPUExecutionProvider"]
    )


class OnnxModule:
    """A module with one output exported once and then run with ONNX Runtime: called with
    float32 CPU tensors (as many as `example` holds, each with the batch first), it returns
    a float32 CPU tensor (any batch size)."""

    def __init__(
        self,
        module: nn.Module,
        example: torch.Tensor | tuple[torch.Tensor, ...],
        threads: int = 1,
    ):
        count = len(example) if isinstance(example, tuple) else 1
        names = [f"input{i}" for i in range(count)]
        self.session = onnx_session(onnx_bytes(module, example, names), threads)
        self.inputs = [each.name for each in self.session.get_inputs()]

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        arrays = [np.ascontiguousarray(t.detach().float().cpu().numpy()) for t in tensors]
        (scores,) = self.session.run(None, dict(zip(self.inputs, arrays)))
        return torch.from_numpy(scores)
