"""The published-figure comparison: what another host's last-bit differences change passes;
a moved point, another size or another label does not."""

import io

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from figure_match import figure_difference  # noqa: E402


def draw(y: np.ndarray, fmt: str, title: str = "mse", size=(4, 3)) -> bytes:
    fig, ax = plt.subplots(figsize=size)
    ax.plot(np.arange(1, len(y) + 1), y, marker="o")
    ax.set(xscale="log", yscale="log")
    ax.set_title(title, fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"CreationDate": None} if fmt == "pdf" else None)
    plt.close(fig)
    return buffer.getvalue()


Y = np.array([1e-3, 4e-3, 1.6e-2, 6.4e-2, 0.256])


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_last_bit_differences_match(fmt):
    """On PNG this jitter moves the first marker by one pixel (snapping)."""
    jittered = Y * (1 + 1e-12 * np.array([1, -1, 1, -1, 1]))
    assert figure_difference(f"f.{fmt}", draw(Y, fmt), draw(jittered, fmt)) is None


def test_one_level_antialiasing_differences_match():
    pixels = np.asarray(Image.open(io.BytesIO(draw(Y, "png")))).copy()
    pixels[10:13, 20:22, :3] = np.where(
        pixels[10:13, 20:22, :3] > 0, pixels[10:13, 20:22, :3] - 1, 1
    )
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="png")
    assert figure_difference("f.png", draw(Y, "png"), out.getvalue()) is None


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_a_moved_point_does_not_match(fmt):
    moved = Y.copy()
    moved[2] *= 1.05
    assert figure_difference(f"f.{fmt}", draw(Y, fmt), draw(moved, fmt)) is not None


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_another_label_or_size_does_not_match(fmt):
    assert figure_difference(f"f.{fmt}", draw(Y, fmt), draw(Y, fmt, title="rmse")) is not None
    other_size = draw(Y, fmt, size=(4, 3.1))
    assert figure_difference(f"f.{fmt}", draw(Y, fmt), other_size) is not None


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_one_digit_changed_does_not_match(fmt):
    published = draw(Y, fmt, title="Hopper (5 models)", size=(7.31, 12.24))
    other = draw(Y, fmt, title="Hopper (6 models)", size=(7.31, 12.24))
    assert figure_difference(f"f.{fmt}", published, other) is not None
