"""The torch device a job computes on."""

from __future__ import annotations

import numpy as np
import torch


def pick_device() -> torch.device:
    """CUDA when present, else CPU; never anything else."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_device_short(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


class HostCopy:
    """A tensor being copied to the host: `numpy()` waits for the copy, and only then."""

    def __init__(self, tensor: torch.Tensor, done: torch.cuda.Event | None = None):
        self.tensor, self.done = tensor, done

    def numpy(self) -> np.ndarray:
        if self.done is not None:
            self.done.synchronize()
        return self.tensor.numpy()


class SideCopies:
    """Host-to-device and device-to-host copies on a side CUDA stream, from and to pinned host
    memory, without blocking the host, so that they overlap the compute stream's work.

    The compute stream waits for an upload before using it, a download waits for the compute
    stream's work queued before it, and `record_stream` keeps the caching allocator from
    reusing a tensor that the other stream still reads. On CPU every copy is the plain
    operation (no streams, no pinning, no copy at all): the same calls, the same results.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.cuda = device.type == "cuda"
        self.stream = torch.cuda.Stream(device) if self.cuda else None

    def to_device(self, array: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(array))
        if not self.cuda:
            return host
        # pin_memory() draws from torch's caching host allocator, which keeps a pinned block
        # from reuse until the non-blocking copy that reads it has completed.
        pinned = host.pin_memory()
        compute = torch.cuda.current_stream(self.device)
        with torch.cuda.stream(self.stream):
            on_device = pinned.to(self.device, non_blocking=True)
        compute.wait_stream(self.stream)
        on_device.record_stream(compute)
        return on_device

    def to_host(self, tensor: torch.Tensor) -> HostCopy:
        if not self.cuda:
            return HostCopy(tensor.detach())
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
            host.copy_(tensor, non_blocking=True)
            done = torch.cuda.Event()
            done.record(self.stream)
        tensor.record_stream(self.stream)
        return HostCopy(host, done)
