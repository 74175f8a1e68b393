"""Training curves as TensorBoard event files, on any backend, TensorFlow installed or not.

An event file is a sequence of records (length, masked CRC-32C of the
length, an ``Event`` protocol buffer, masked CRC-32C of the data). Scalars
need four fields of the protocol, encoded here by hand, so writing curves
costs no dependency: ``tensorboard --logdir RUN/tensorboard`` reads them.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import Path

from .storage import EVENTS_DIR

__all__ = ["EVENTS_DIR", "EventWriter", "crc32c", "read_scalars", "write_log"]


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum of TFRecord framing."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """``data`` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", _masked(crc32c(header)))
        + data
        + struct.pack("<I", _masked(crc32c(data)))
    )


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits, value = value & 0x7F, value >> 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def event(wall_time: float, step: int = 0, *, scalars=None, file_version=None) -> bytes:
    """An ``Event``: ``wall_time`` (1), ``step`` (2), ``file_version`` (3), ``summary`` (5)
    of ``Summary.Value``s with ``tag`` (1) and ``simple_value`` (2)."""
    data = b"\x09" + struct.pack("<d", wall_time)
    if step:
        data += b"\x10" + _varint(int(step) & 0xFFFFFFFFFFFFFFFF)
    if file_version is not None:
        data += _field(3, file_version.encode())
    if scalars:
        values = b"".join(
            _field(1, _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value))
            for tag, value in scalars.items()
        )
        data += _field(5, values)
    return data


class EventWriter:
    """Appends scalars to a new event file in ``folder`` (one file per writer, as
    TensorFlow's writer does: TensorBoard reads every file of a folder, so a
    resumed run adds a file). Nothing is written before the first scalars."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path: Path | None = None

    def _write(self, data: bytes) -> None:
        if self.path is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"events.out.tfevents.{time.time():.0f}.{socket.gethostname()}.{os.getpid()}"
            path, counter = self.folder / name, 0
            while path.exists():
                counter += 1
                path = self.folder / f"{name}.{counter}"
            path.write_bytes(record(event(time.time(), file_version="brain.Event:2")))
            self.path = path
        with open(self.path, "ab") as f:  # appended and closed: nothing lost if killed
            f.write(record(data))

    def scalars(self, step: int, values: Mapping[str, object]) -> None:
        """The finite numbers of ``values`` at ``step`` (other entries are skipped)."""
        numbers = {}
        for tag, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if value == value and abs(value) != float("inf"):
                    numbers[tag] = float(value)
        if numbers:
            self._write(event(time.time(), step, scalars=numbers))


def write_log(folder: str | Path, log: list[Mapping[str, object]], skip=("step",)) -> Path | None:
    """A training log (dicts with a ``step``) as one new event file in ``folder``
    (none when the log holds no number)."""
    writer = EventWriter(folder)
    for entry in log:
        writer.scalars(int(entry["step"]), {k: v for k, v in entry.items() if k not in skip})
    return writer.path


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def _fields(data: bytes):
    """``(number, value)`` of each field: ints, floats, doubles or bytes by wire type."""
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 1:
            (value,), i = struct.unpack_from("<d", data, i), i + 8
        elif wire == 5:
            (value,), i = struct.unpack_from("<f", data, i), i + 4
        elif wire == 2:
            size, i = _read_varint(data, i)
            value, i = data[i : i + size], i + size
        else:
            raise ValueError(f"wire type {wire} is not used by scalar events")
        yield number, value


def read_scalars(path: str | Path) -> list[tuple[int, dict[str, float]]]:
    """``(step, {tag: value})`` of each scalar event in an event file, checksums verified
    (what ``EventWriter`` writes; for tests and quick looks without TensorBoard)."""
    data = Path(path).read_bytes()
    out, i = [], 0
    while i < len(data):
        header = data[i : i + 8]
        (size,) = struct.unpack("<Q", header)
        (head_crc,) = struct.unpack_from("<I", data, i + 8)
        body = data[i + 12 : i + 12 + size]
        (body_crc,) = struct.unpack_from("<I", data, i + 12 + size)
        if head_crc != _masked(crc32c(header)) or body_crc != _masked(crc32c(body)):
            raise ValueError(f"{path}: a record at byte {i} fails its checksum")
        i += 16 + size
        step, values = 0, {}
        for number, value in _fields(body):
            if number == 2:
                step = value
            elif number == 5:
                for _, item in _fields(value):
                    fields = dict(_fields(item))
                    values[fields[1].decode()] = fields[2]
        if values:
            out.append((step, values))
    return out
