"""``ckgan.events``: TensorBoard event files written without TensorFlow, read back by it."""

import struct

import pytest

from ckgan.events import EventWriter, crc32c, read_scalars, write_log


def test_crc32c_matches_the_standard_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720)
    assert crc32c(b"") == 0


def test_scalars_round_trip_and_non_numbers_are_skipped(tmp_path):
    log = [
        {"step": 5, "tv": 0.25, "name": "x", "flag": True},
        {"step": 10, "tv": float("nan"), "loss": -3.5},
        {"step": 2**40, "big": 2.0**100},  # simple_value is float32
    ]
    path = write_log(tmp_path, log)
    assert path.parent == tmp_path and "tfevents" in path.name
    assert read_scalars(path) == [
        (5, {"tv": 0.25}),
        (10, {"loss": -3.5}),
        (2**40, {"big": 2.0**100}),
    ]


def test_a_damaged_record_fails_its_checksum(tmp_path):
    writer = EventWriter(tmp_path)
    writer.scalars(1, {"a": 1.0})
    data = bytearray(writer.path.read_bytes())
    data[-6] ^= 0xFF  # inside the last record's body
    writer.path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        read_scalars(writer.path)


def test_two_writers_in_one_folder_keep_separate_files(tmp_path):
    first, second = EventWriter(tmp_path / "curves"), EventWriter(tmp_path / "curves")
    assert not (tmp_path / "curves").exists()  # nothing before the first scalars
    first.scalars(1, {"a": 1.0})
    second.scalars(1, {"a": 2.0})
    assert first.path != second.path and len(list((tmp_path / "curves").iterdir())) == 2
    assert read_scalars(second.path) == [(1, {"a": 2.0})]


def test_tensorflow_reads_the_file(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.util import event_pb2

    path = write_log(tmp_path, [{"step": 3, "tv": 0.5, "wasserstein": -0.125}])
    records = [bytes(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    events = [event_pb2.Event.FromString(r) for r in records]
    assert events[0].file_version == "brain.Event:2"
    assert events[1].step == 3
    assert {v.tag: v.simple_value for v in events[1].summary.value} == {
        "tv": 0.5,
        "wasserstein": -0.125,
    }
    assert struct.unpack("<Q", path.read_bytes()[:8])[0] == len(records[0])
