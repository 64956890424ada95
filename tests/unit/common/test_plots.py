"""Figures are saved by one helper: atomically, deterministically, at the chosen resolution."""

from PIL import Image

from sonoflow.common.plots import new_figure, save_figure


def _figure():
    fig, ax = new_figure((3, 2))
    ax.plot([0, 1, 2], [1, 0, 1])
    return fig


def test_same_figure_gives_the_same_bytes_without_software_version(tmp_path):
    save_figure(_figure(), tmp_path / "a.png")
    save_figure(_figure(), tmp_path / "b.png")
    first = (tmp_path / "a.png").read_bytes()
    assert first == (tmp_path / "b.png").read_bytes()
    assert b"matplotlib version" not in first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]  # no temporary files


def test_resolution_is_chosen_by_the_caller(tmp_path):
    save_figure(_figure(), tmp_path / "low.png", dpi=50)
    save_figure(_figure(), tmp_path / "high.png", dpi=100)
    low, high = (Image.open(tmp_path / f"{n}.png").size for n in ("low", "high"))
    assert low == (150, 100) and high == (300, 200)
