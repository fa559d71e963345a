"""Does a regenerated figure show what the published one shows?

Byte equality holds only on the host that drew it (DESIGN: runs are byte-reproducible per
machine, not across hosts). numpy picks its SIMD kernels (log, exp, power) by the CPU, so on
another host a log-scale coordinate can differ in its last bits, and the antialiasing of an
edge pixel by one level: ``model_error_vs_horizon.png`` redrawn on an AMD EPYC from the
committed table, same matplotlib and numpy, had 6 of 894,744 pixels one level off.

- A PNG matches when it has the same size and at most ``PNG_UNMATCHED_PIXELS`` pixels of
  each are not within ``PNG_LEVELS`` in every channel of a pixel of the other at most
  ``PNG_SHIFT`` pixels away. matplotlib snaps markers to the pixel grid, so a last-bit
  change can move a whole marker by one pixel over an unsnapped line: a 1e-12 relative
  change of the data in tests/unit/test_figure_match.py moved one, leaving 4 pixels
  unmatched (the cap allows three such). One digit changed in an 8-10 pt title of a
  figure the size of ours left 22-51 (measured for 5/6, 1/7, 0.1/0.7), a moved point or
  curve hundreds.
- A PDF matches when its text outside streams is the same with numbers masked (object sizes
  and offsets follow the streams' lengths) and its decompressed streams hold the same
  tokens, numbers equal within ``PDF_POINTS`` (1/72 inch units).
"""

import io
import re
import zlib

import numpy as np
from PIL import Image

PNG_LEVELS = 2
PNG_SHIFT = 1
PNG_UNMATCHED_PIXELS = 12
PDF_POINTS = 0.01

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_NUMBER = re.compile(rb"-?(?:\d+\.\d*|\.\d+|\d+)")
_TOKEN = re.compile(_NUMBER.pattern + rb"|[^\s\d.-]+|[.-]")


def png_difference(published: bytes, regenerated: bytes) -> str | None:
    """None when the PNGs match (module doc), else what differs."""
    a, b = (np.asarray(Image.open(io.BytesIO(x)).convert("RGBA"), dtype=np.int16)
            for x in (published, regenerated))  # fmt: skip
    if a.shape != b.shape:
        return f"size {a.shape[1]}x{a.shape[0]} became {b.shape[1]}x{b.shape[0]}"
    for x, y in ((a, b), (b, a)):
        off = ~_near(x, y)
        if off.sum() > PNG_UNMATCHED_PIXELS:
            rows, cols = np.nonzero(off)
            return (f"{int(off.sum())} of {off.size} pixels (first at x={cols[0]}, "
                    f"y={rows[0]}) have none within {PNG_LEVELS} levels {PNG_SHIFT} pixel "
                    f"away in the other (at most {PNG_UNMATCHED_PIXELS} may)")  # fmt: skip
    return None


def _near(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(H, W) bool: does pixel (i, j) of x (H, W, C) match one of y within PNG_SHIFT?"""
    height, width = x.shape[:2]
    k = PNG_SHIFT
    padded = np.pad(y, ((k, k), (k, k), (0, 0)), mode="edge")
    near = np.zeros((height, width), dtype=bool)
    for dy in range(2 * k + 1):
        for dx in range(2 * k + 1):
            shifted = padded[dy : dy + height, dx : dx + width]
            near |= (np.abs(x - shifted) <= PNG_LEVELS).all(axis=-1)
    return near


def _streams(pdf: bytes) -> tuple[bytes, list[bytes]]:
    """The PDF's text outside streams, numbers masked; its streams, decompressed."""
    streams = []
    for raw in _STREAM.findall(pdf):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    return _NUMBER.sub(b"#", _STREAM.sub(b"stream", pdf)), streams


def pdf_difference(published: bytes, regenerated: bytes) -> str | None:
    """None when the PDFs match (module doc), else what differs."""
    (frame_a, streams_a), (frame_b, streams_b) = _streams(published), _streams(regenerated)
    if frame_a != frame_b:
        return "objects outside the streams differ"
    if len(streams_a) != len(streams_b):
        return f"{len(streams_a)} streams became {len(streams_b)}"
    for i, (x, y) in enumerate(zip(streams_a, streams_b, strict=True)):
        if x == y:
            continue
        tokens_x, tokens_y = _TOKEN.findall(x), _TOKEN.findall(y)
        if len(tokens_x) != len(tokens_y):
            return f"stream {i}: {len(tokens_x)} tokens became {len(tokens_y)}"
        for s, t in zip(tokens_x, tokens_y, strict=True):
            if s == t:
                continue
            numbers = _NUMBER.fullmatch(s) and _NUMBER.fullmatch(t)
            if not numbers or abs(float(s) - float(t)) > PDF_POINTS:
                return f"stream {i}: {s[:40]!r} became {t[:40]!r}"
    return None


def figure_difference(name: str, published: bytes, regenerated: bytes) -> str | None:
    """None when the figure ``name`` (.png or .pdf) matches, else what differs."""
    if published == regenerated:
        return None
    if name.endswith(".png"):
        return png_difference(published, regenerated)
    if name.endswith(".pdf"):
        return pdf_difference(published, regenerated)
    return "differs (neither PNG nor PDF)"
