"""Figures: one place that selects the file-only Agg backend and saves figures atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # jobs run without a display

import matplotlib.pyplot as plt  # noqa: E402

from sonoflow.common.atomic import atomic_path  # noqa: E402


def new_figure(size: tuple[float, float] = (6, 4), ncols: int = 1):
    """A figure with `ncols` gridded axes side by side: (fig, ax) or (fig, [ax, ...])."""
    fig, axes = plt.subplots(1, ncols, figsize=size, squeeze=False)
    for ax in axes[0]:
        ax.grid(alpha=0.3)
    return fig, axes[0][0] if ncols == 1 else list(axes[0])


def save_figure(fig, path: str | Path, dpi: int = 120) -> None:
    """Lay out, write atomically in the format of `path`'s suffix (PNG by default), close.

    PNG files carry no software version, so the same figure gives the same bytes on every
    build (dataset outputs are compared byte for byte)."""
    fig.tight_layout()
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    metadata = {"Software": None} if fmt == "png" else None
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    plt.close(fig)
