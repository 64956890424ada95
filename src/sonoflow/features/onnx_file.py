"""A cheap look at a file that should hold an ONNX model, without onnxruntime: config
validation runs it while Snakemake builds the DAG, so that a wrong `features.NAME.path`
(a missing file, a checkpoint, a text file) stops the dry run instead of the cache job.

An ONNX file is a serialized protobuf `ModelProto`. Its top-level fields are walked (tags
and lengths only; the graph's bytes are skipped with a seek) and the model's graph (field 7,
length-delimited) must be among them. What passes may still be a model onnxruntime refuses
(an unknown operator, an opset it lacks); the cache job names the key then too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

GRAPH_FIELD = 7  # ModelProto.graph
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # the protobuf wire types a ModelProto uses
FIXED_SIZE = {FIXED64: 8, FIXED32: 4}
MAX_FIELDS = 100_000  # top-level fields; real models have a handful
MAX_VARINT_BYTES = 10


def onnx_file_problem(path: str | Path) -> str | None:
    """Why `path` cannot be an ONNX model (missing, empty, not a ModelProto with a graph),
    or None when it looks like one."""
    path = Path(path)
    if not path.is_file():
        return "no such file" if not path.exists() else "not a file"
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    with open(path, "rb") as handle:
        return _model_problem(handle, size)


def _model_problem(handle: BinaryIO, size: int) -> str | None:
    fields = set()  # length-delimited fields seen
    for _ in range(MAX_FIELDS):
        offset = handle.tell()
        if offset == size:
            break
        tag = _varint(handle)
        field, wire = (tag >> 3, tag & 7) if tag is not None else (0, -1)
        if field == 0 or wire not in (VARINT, FIXED64, LENGTH, FIXED32):
            return f"byte {offset} is not a protobuf field of an ONNX ModelProto"
        if wire == VARINT:
            if _varint(handle) is None:
                return f"byte {offset}: a number runs past the end of the file"
            continue
        length = FIXED_SIZE.get(wire) or _varint(handle)
        if length is None or handle.tell() + length > size:
            return f"byte {offset}: a field runs past the end of the file"
        handle.seek(length, os.SEEK_CUR)
        if wire == LENGTH:
            fields.add(field)
    if GRAPH_FIELD not in fields:
        return "it holds no model graph"
    return None


def _varint(handle: BinaryIO) -> int | None:
    """A protobuf base-128 integer, or None when the file ends or it is too long."""
    value = 0
    for shift in range(0, 7 * MAX_VARINT_BYTES, 7):
        byte = handle.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None
