"""Scalars of a TensorBoard event file as a CSV, without TensorFlow or TensorBoard.

    python benchmarks/peers/tfevents_scalars.py FILE --tag performance/eval_return > out.csv

For peers that publish their learning curves only as event files (e.g. x35f/model_based_rl's
``results/mbpo/Hopper/events.out.tfevents.*``). An event file is a sequence of TFRecords
(8-byte length, 4-byte CRC, payload, 4-byte CRC); each payload is an ``Event`` protobuf
whose field 2 is the step and field 5 a ``Summary`` of ``Value``s (1: tag, 2: simple float
value). Only those fields are decoded; CRCs are not checked.
"""

from __future__ import annotations

import argparse
import csv
import struct
import sys
from collections.abc import Iterator
from pathlib import Path


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i : i + length], i + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield key >> 3, wire, value


def scalars(path: Path) -> Iterator[tuple[str, int, float]]:
    """(tag, step, value) of every simple scalar in the event file, in file order."""
    data = path.read_bytes()
    i = 0
    while i + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[i : i + 8])
        record = data[i + 12 : i + 12 + length]
        i += 12 + length + 4
        step, summary = 0, None
        for number, _, value in _fields(record):
            if number == 2:
                step = int(value)
            elif number == 5:
                summary = value
        if summary is None:
            continue
        for number, _, value in _fields(summary):
            if number != 1:
                continue
            tag, scalar = None, None
            for inner, wire, item in _fields(value):
                if inner == 1:
                    tag = item.decode()
                elif inner == 2 and wire == 5:
                    (scalar,) = struct.unpack("<f", item)
            if tag is not None and scalar is not None:
                yield tag, step, scalar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--tag", action="append", help="keep only these tags (repeatable)")
    args = parser.parse_args()
    writer = csv.writer(sys.stdout)
    writer.writerow(["tag", "step", "value"])
    for tag, step, value in scalars(args.file):
        if args.tag is None or tag in args.tag:
            writer.writerow([tag, step, f"{value:.6g}"])


if __name__ == "__main__":
    main()
