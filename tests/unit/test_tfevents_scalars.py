"""benchmarks/peers/tfevents_scalars.py decodes TensorBoard scalars without TensorFlow."""

from __future__ import annotations

import struct

import pytest


@pytest.fixture(scope="module")
def tfevents(load_benchmark):
    return load_benchmark("benchmarks/peers/tfevents_scalars.py")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = _varint(number << 3 | wire)
    return key + (_varint(len(payload)) + payload if wire == 2 else payload)


def _event(tag: str, step: int, value: float, wall_time: float = 1.5) -> bytes:
    summary_value = _field(1, 2, tag.encode()) + _field(2, 5, struct.pack("<f", value))
    summary = _field(1, 2, summary_value)
    event = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    return event + _field(5, 2, summary)


def _record(payload: bytes) -> bytes:
    return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4


def test_scalars_round_trip(tfevents, tmp_path):
    header = _field(1, 1, struct.pack("<d", 0.0)) + _field(3, 2, b"brain.Event:2")
    events = [("performance/eval_return", 0, 41.25), ("loss/q1", 300, -2.5),
              ("performance/eval_return", 6000, 1003.0)]  # fmt: skip
    path = tmp_path / "events.out.tfevents.test"
    path.write_bytes(_record(header) + b"".join(_record(_event(*e)) for e in events))
    assert list(tfevents.scalars(path)) == events


def test_unknown_wire_type_is_refused(tfevents, tmp_path):
    path = tmp_path / "events.bad"
    path.write_bytes(_record(_varint(2 << 3 | 3)))  # wire type 3 (groups): not decoded
    with pytest.raises(ValueError, match="wire type 3"):
        list(tfevents.scalars(path))
