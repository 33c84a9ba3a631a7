"""Reading NAS-Bench-101's TFRecord files without TensorFlow (Ying et al., ICML 2019).

Files are written in the real format by ``nasbench101_record_factory``; corrupt ones are
made by editing those bytes, so every error path is met as a user would meet it.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import nasbench101_record_factory as factory
import pytest

import tfnas_db.interop.nasbench101_records as nb
from tfnas_db.errors import TfnasError

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def record_offsets(path: Path) -> list[int]:
    """Byte offset of each record, from the framing alone (length + 16 bytes each)."""
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += length + 16
    assert pos == len(data)
    return offsets


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def row_with_metrics(blob: bytes) -> bytes:
    cell = factory.make_cells(1)[0]
    return nb.format_record(cell.module_hash, 108, cell.matrix, cell.ops, blob)


def good_metrics() -> bytes:
    return nb.encode_model_metrics(
        [
            factory.initial_figures(),
            factory.halfway_figures(0, 108, 0),
            factory.final_figures(0, 108, 0),
        ],
        factory.trainable_parameters(0),
        factory.total_time(0, 108, 0),
    )


def error_of(path: Path, **kwargs: Any) -> str:
    with pytest.raises(TfnasError) as info:
        for _ in nb.iter_training_records(path, **kwargs):
            pass
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------------------
# CRC32C
# --------------------------------------------------------------------------------------

# RFC 3720 (iSCSI) appendix B.4 test vectors, plus the customary check value.
CRC32C_VECTORS = [
    (b"123456789", 0xE3069283),
    (b"", 0x00000000),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]


@pytest.mark.parametrize(("data", "expected"), CRC32C_VECTORS)
def test_crc32c_known_vectors(data: bytes, expected: int) -> None:
    assert nb.crc32c_python(data) == expected
    assert nb.crc32c(data) == expected  # whichever implementation was selected


def test_masked_crc32c_follows_the_tfrecord_formula() -> None:
    crc = 0xE3069283
    rotated = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert nb.masked_crc32c(b"123456789") == (rotated + 0xA282EAD8) & 0xFFFFFFFF
    # The length field of an empty record (eight zero bytes), with the mask applied by hand
    # to the reference CRC: the mask must not overflow 32 bits.
    crc = nb.crc32c_python(bytes(8))
    rotated = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert nb.masked_crc32c(bytes(8)) == (rotated + 0xA282EAD8) & 0xFFFFFFFF
    assert 0 <= nb.masked_crc32c(b"\xff" * 64) <= 0xFFFFFFFF


def test_selected_crc32c_matches_the_python_one_on_random_data() -> None:
    data = os.urandom(10_000)
    assert nb.crc32c(data) == nb.crc32c_python(data)
    assert nb.CRC32C_IMPLEMENTATION in ("google_crc32c", "crc32c", "python")


# --------------------------------------------------------------------------------------
# TFRecord framing
# --------------------------------------------------------------------------------------


def test_tfrecord_round_trip_including_empty_and_large_records(tmp_path: Path) -> None:
    payloads = [b"", b"x", os.urandom(5000), b"\x00" * 300]
    path = tmp_path / "r.tfrecord"
    assert nb.write_tfrecord(path, payloads) == 4
    assert list(nb.iter_tfrecord(path)) == payloads
    # Records larger than a chunk are assembled from several reads.
    assert list(nb.iter_tfrecord(path, chunk_size=64)) == payloads
    assert list(nb.iter_tfrecord(path, check_crc=False, chunk_size=7)) == payloads


def test_empty_file_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    assert list(nb.iter_training_records(path)) == []


def test_missing_file_is_a_tfnas_error(tmp_path: Path) -> None:
    with pytest.raises(TfnasError, match="cannot read"):
        list(nb.iter_tfrecord(tmp_path / "absent.tfrecord"))


# --------------------------------------------------------------------------------------
# round trip of training records
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [(108,), factory.FULL_EPOCHS])
def test_round_trip_every_figure(tmp_path: Path, epochs: tuple[int, ...]) -> None:
    cells = factory.make_cells(5) + factory.make_cells(2, vertices=5)
    path = factory.write_benchmark(tmp_path / "nb.tfrecord", cells, epochs)
    got = list(nb.iter_training_records(path))
    assert len(got) == len(cells) * len(epochs) * 3
    it = iter(got)
    for n, cell in enumerate(cells):  # figures follow the position in the file's cell list
        for e in epochs:
            for repeat in range(3):
                rec = next(it)
                assert rec == nb.TrainingRecord(
                    module_hash=cell.module_hash,
                    epochs=e,
                    matrix=cell.matrix,
                    ops=cell.ops,
                    trainable_parameters=factory.trainable_parameters(n),
                    total_time=factory.total_time(n, e, repeat),
                    halfway=factory.halfway_figures(n, e, repeat),
                    final=factory.final_figures(n, e, repeat),
                )
                assert isinstance(rec.matrix[0][0], int)


def expected_cell(cell: factory.Cell, number: int, epochs: int) -> dict[str, Any]:
    finals = [factory.final_figures(number, epochs, r) for r in range(3)]
    halves = [factory.halfway_figures(number, epochs, r) for r in range(3)]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return {
        "module_hash": cell.module_hash,
        "epochs": epochs,
        "n_repeats": 3,
        "matrix": cell.matrix,
        "ops": cell.ops,
        "trainable_parameters": factory.trainable_parameters(number),
        "final_train_accuracy": 100 * mean([f.train_accuracy for f in finals]),
        "final_validation_accuracy": 100 * mean([f.validation_accuracy for f in finals]),
        "final_test_accuracy": 100 * mean([f.test_accuracy for f in finals]),
        "final_training_time": mean([f.training_time for f in finals]),
        "halfway_epoch": epochs / 2,
        "halfway_train_accuracy": 100 * mean([h.train_accuracy for h in halves]),
        "halfway_validation_accuracy": 100 * mean([h.validation_accuracy for h in halves]),
        "halfway_test_accuracy": 100 * mean([h.test_accuracy for h in halves]),
        "halfway_training_time": mean([h.training_time for h in halves]),
        "total_time": mean([factory.total_time(number, epochs, r) for r in range(3)]),
    }


def assert_cell(result: nb.CellResult, expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        got = getattr(result, name)
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-12, abs=1e-12), name
        else:
            assert got == value, name


@pytest.mark.parametrize("interleave", [False, True])
def test_summarise_averages_repeats_in_percent(tmp_path: Path, interleave: bool) -> None:
    cells = factory.make_cells(6)
    path = factory.write_benchmark(
        tmp_path / "nb.tfrecord", cells, factory.FULL_EPOCHS, interleave=interleave
    )
    results = list(nb.summarise(nb.iter_training_records(path)))
    assert len(results) == len(cells) * len(factory.FULL_EPOCHS)
    by_key = {(r.module_hash, r.epochs): r for r in results}
    for number, cell in enumerate(cells):
        for e in factory.FULL_EPOCHS:
            assert_cell(by_key[cell.module_hash, e], expected_cell(cell, number, e))
    # Percent, not fractions: the mean of the repeats is the middle repeat's figure.
    first = by_key[cells[0].module_hash, 108]
    assert first.final_validation_accuracy == pytest.approx(
        100 * factory.final_figures(0, 108, 1).validation_accuracy
    )
    assert 50 < first.final_validation_accuracy < 100
    if interleave:  # order of first appearance
        assert [r.module_hash for r in results[: len(cells)]] == [c.module_hash for c in cells]


def test_interleaved_and_grouped_files_summarise_alike(tmp_path: Path) -> None:
    cells = factory.make_cells(4)
    grouped = factory.write_benchmark(tmp_path / "g.tfrecord", cells, factory.FULL_EPOCHS)
    mixed = factory.write_benchmark(
        tmp_path / "m.tfrecord", cells, factory.FULL_EPOCHS, interleave=True
    )

    def table(path: Path) -> dict[tuple[str, int], nb.CellResult]:
        return {(r.module_hash, r.epochs): r for r in nb.summarise(nb.iter_training_records(path))}

    a, b = table(grouped), table(mixed)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].n_repeats == b[k].n_repeats == 3
        assert a[k].final_test_accuracy == pytest.approx(b[k].final_test_accuracy, rel=1e-12)
        assert a[k].halfway_training_time == pytest.approx(b[k].halfway_training_time)


def test_summarise_rejects_repeats_with_different_parameter_counts() -> None:
    cell = factory.make_cells(1)[0]
    recs = [nb.parse_record(factory.record(cell, 0, 108, r)) for r in range(3)]
    odd = nb.TrainingRecord(**{**_fields(recs[2]), "trainable_parameters": 5})
    with pytest.raises(TfnasError, match=r"disagree on trainable_parameters \(1000000 and 5\)"):
        list(nb.summarise([recs[0], recs[1], odd]))


def test_summarise_without_halfway_or_total_time_gives_none() -> None:
    cell = factory.make_cells(1)[0]
    recs = [nb.parse_record(factory.record(cell, 0, 108, r)) for r in range(3)]
    recs[1] = nb.TrainingRecord(**{**_fields(recs[1]), "halfway": None, "total_time": None})
    (result,) = nb.summarise(recs)
    assert result.n_repeats == 3
    assert result.halfway_validation_accuracy is None
    assert result.halfway_epoch is None
    assert result.total_time is None
    assert result.final_validation_accuracy == pytest.approx(
        100 * factory.final_figures(0, 108, 1).validation_accuracy
    )


def _fields(rec: nb.TrainingRecord) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in nb.TrainingRecord.__dataclass_fields__}


def test_progress_reports_bytes_read_up_to_the_file_size(tmp_path: Path) -> None:
    path = factory.write_benchmark(tmp_path / "nb.tfrecord", factory.make_cells(20))
    calls: list[tuple[int, int]] = []
    records = list(
        nb.iter_training_records(path, progress=lambda a, b: calls.append((a, b)), chunk_size=1000)
    )
    assert len(records) == 60
    size = path.stat().st_size
    assert calls[-1] == (size, size)
    assert all(total == size for _, total in calls)
    assert [a for a, _ in calls] == sorted({a for a, _ in calls})
    assert len(calls) >= size // 1000


# --------------------------------------------------------------------------------------
# corrupt files: one clear line naming the file and the byte offset
# --------------------------------------------------------------------------------------


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    return factory.write_benchmark(tmp_path / "nb.tfrecord", factory.make_cells(3))


def test_truncated_inside_the_data(small_file: Path) -> None:
    last = record_offsets(small_file)[-1]
    small_file.write_bytes(small_file.read_bytes()[:-5])
    message = error_of(small_file)
    assert str(small_file) in message
    assert f"byte offset {last}" in message
    assert "truncated" in message
    # without checksums too: truncation is framing, not checksums
    assert f"byte offset {last}" in error_of(small_file, check_crc=False)


def test_truncated_inside_the_header(small_file: Path) -> None:
    size = small_file.stat().st_size
    small_file.write_bytes(small_file.read_bytes() + b"\x10\x00\x00")
    message = error_of(small_file)
    assert str(small_file) in message
    assert f"byte offset {size}" in message
    assert "header" in message


def test_flipped_data_byte_is_a_bad_data_crc(small_file: Path) -> None:
    offsets = record_offsets(small_file)
    raw = bytearray(small_file.read_bytes())
    raw[offsets[4] + 12 + 20] ^= 0x01  # inside record 4's JSON
    small_file.write_bytes(bytes(raw))
    message = error_of(small_file)
    assert str(small_file) in message
    assert f"bad data checksum in the record at byte offset {offsets[4]}" in message
    # the records before it were read
    assert len(list(nb.iter_tfrecord(small_file, check_crc=False))) == 9


def test_flipped_length_byte_is_a_bad_length_crc(small_file: Path) -> None:
    offsets = record_offsets(small_file)
    raw = bytearray(small_file.read_bytes())
    raw[offsets[2] + 6] ^= 0x40  # a high byte of record 2's length: petabytes
    small_file.write_bytes(bytes(raw))
    message = error_of(small_file)
    assert str(small_file) in message
    assert f"bad length checksum in the record at byte offset {offsets[2]}" in message
    # Unchecked, the absurd length is caught before any attempt to read that much.
    unchecked = error_of(small_file, check_crc=False)
    assert f"byte offset {offsets[2]}" in unchecked
    assert "truncated" in unchecked


def test_flipped_length_crc_byte(small_file: Path) -> None:
    offsets = record_offsets(small_file)
    raw = bytearray(small_file.read_bytes())
    raw[offsets[1] + 9] ^= 0x80
    small_file.write_bytes(bytes(raw))
    assert f"bad length checksum in the record at byte offset {offsets[1]}" in error_of(small_file)


def test_record_that_is_not_json(tmp_path: Path) -> None:
    cells = factory.make_cells(2)
    rows = [*factory.records(cells[:1]), b"{not json", *factory.records(cells[1:])]
    path = tmp_path / "nb.tfrecord"
    nb.write_tfrecord(path, rows)
    bad = record_offsets(path)[3]
    message = error_of(path)
    assert str(path) in message
    assert f"record at byte offset {bad}" in message
    assert "not JSON" in message


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\x0a\xff\x01", "ends inside field 1"),  # evaluation_data claims 255 bytes
        (
            b"\x0a\x02\x09\x00" * 3 + b"\x10\x01",
            "evaluation_data[2] ends inside field 1",
        ),  # a cut double
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "varint longer than 10 bytes"),
        (b"\x80", "ends inside a varint"),
        (b"\x3f", "invalid wire type 7"),
        (b"\x0f", "field 1 has wire type 7, expected length-delimited"),
        (b"\x00\x01", "numbered 0"),
        (b"\x11" + bytes(8), "wire type 64-bit, expected varint"),  # params as a double
        (b"\x24", "end-group 4 without a start-group"),
        (b"\x4b\x08\x01", "ends inside group 9"),
        (b"\x10\x01", "0 evaluation_data entries"),
    ],
)
def test_metrics_that_are_not_a_valid_protobuf(tmp_path: Path, blob: bytes, reason: str) -> None:
    path = tmp_path / "nb.tfrecord"
    nb.write_tfrecord(path, [*factory.records(factory.make_cells(1)), row_with_metrics(blob)])
    message = error_of(path)
    assert str(path) in message
    assert f"record at byte offset {record_offsets(path)[3]}" in message
    assert "not a valid ModelMetrics message" in message
    assert reason in message


def test_metrics_that_are_not_base64() -> None:
    cell = factory.make_cells(1)[0]
    row = json.dumps([cell.module_hash, 108, "0" * 49, ",".join(cell.ops), "@@@@"]).encode()
    with pytest.raises(TfnasError, match="metrics are not base64"):
        nb.parse_record(row)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a": 1}', "got dict"),
        (b'["h", 108, "0", "input"]', "got a list of 4"),
        (b'["", 108, "0", "input", ""]', "module_hash is ''"),
        (b'["h", "108", "0", "input", ""]', "epochs is '108'"),
        (b'["h", 108, 0, "input", ""]', "adjacency is int"),
        (b'["h", 108, "010", "a,b,c", ""]', "not a square matrix"),
        (b'["h", 108, "0120", "a,b", ""]', "not a square matrix"),
        (b'["h", 108, "0100", "input", ""]', "one operation per vertex"),
    ],
)
def test_malformed_rows_name_what_is_wrong(row: bytes, reason: str) -> None:
    with pytest.raises(TfnasError, match="malformed NAS-Bench-101 row") as info:
        nb.parse_record(row)
    assert reason in str(info.value)


def test_missing_or_out_of_range_figures_are_errors() -> None:
    half = factory.halfway_figures(0, 108, 0)
    final = factory.final_figures(0, 108, 0)
    no_test = nb.encode_evaluation_data(final)[:-9]  # drop test_accuracy (last field)
    blob = nb.encode_model_metrics([factory.initial_figures(), half, no_test], 10)
    with pytest.raises(TfnasError, match=r"evaluation_data\[2\] has no test_accuracy"):
        nb.parse_record(row_with_metrics(blob))
    percent = nb.EvaluationFigures(108.0, 1.0, 0.9, 93.5, 0.9)
    blob = nb.encode_model_metrics([factory.initial_figures(), half, percent], 10)
    with pytest.raises(TfnasError, match=r"validation_accuracy = 93.5, outside 0..1"):
        nb.parse_record(row_with_metrics(blob))
    blob = nb.encode_model_metrics([factory.initial_figures(), half, final], -1)
    with pytest.raises(TfnasError, match="trainable_parameters = -1"):
        nb.parse_record(row_with_metrics(blob))


# --------------------------------------------------------------------------------------
# protobuf decoding details
# --------------------------------------------------------------------------------------


def unknown_fields() -> bytes:
    """One unknown field of every wire type, with numbers the schemas do not use."""
    return (
        key(7, 0)
        + varint(300)  # varint
        + key(8, 1)
        + struct.pack("<d", 1.5)  # 64-bit
        + key(9, 2)
        + varint(3)
        + b"abc"  # length-delimited
        + key(10, 3)  # group, holding a nested group and a varint
        + key(11, 3)
        + key(1, 0)
        + varint(5)
        + key(11, 4)
        + key(2, 5)
        + b"\x00\x00\x80\x3f"
        + key(10, 4)
        + key(12, 5)
        + struct.pack("<f", 2.0)  # 32-bit
        + key(1000, 0)
        + varint(2**63)  # a large field number and a 10-byte varint
    )


def test_unknown_fields_are_skipped_at_both_levels() -> None:
    half = factory.halfway_figures(3, 36, 2)
    final = factory.final_figures(3, 36, 2)
    entries = [
        nb.encode_evaluation_data(factory.initial_figures()) + unknown_fields(),
        unknown_fields() + nb.encode_evaluation_data(half, checkpoint_path="/ckpt/model-1"),
        nb.encode_evaluation_data(final) + unknown_fields(),
    ]
    blob = unknown_fields() + nb.encode_model_metrics(entries, 424242, 77.5) + unknown_fields()
    rec = nb.parse_record(row_with_metrics(blob))
    assert rec.halfway == half
    assert rec.final == final
    assert rec.trainable_parameters == 424242
    assert rec.total_time == 77.5


def test_fields_in_any_order_and_last_scalar_wins() -> None:
    final = factory.final_figures(1, 108, 0)
    encoded = nb.encode_evaluation_data(final)
    reordered = encoded[18:] + encoded[:18]  # test, valid... before epoch and time
    blob = (
        key(2, 0)
        + varint(1)  # trainable_parameters, overridden below
        + nb.encode_model_metrics(
            [factory.initial_figures(), factory.halfway_figures(1, 108, 0), reordered], 99
        )
    )
    rec = nb.parse_record(row_with_metrics(blob))
    assert rec.final == final
    assert rec.trainable_parameters == 99


def test_halfway_is_entry_one_and_final_entry_two_as_in_the_reference_api() -> None:
    cell = factory.make_cells(1)[0]
    rec = nb.parse_record(factory.record(cell, 0, 12, 1))
    assert rec.halfway == factory.halfway_figures(0, 12, 1)
    assert rec.halfway is not None and rec.halfway.epoch == 6.0
    assert rec.final.epoch == 12.0
    two = nb.encode_model_metrics([factory.initial_figures(), factory.final_figures(0, 12, 1)], 7)
    rec = nb.parse_record(row_with_metrics(two))
    assert rec.halfway is None
    assert rec.final == factory.final_figures(0, 12, 1)
    assert rec.total_time is None


def test_format_record_is_the_benchmark_row() -> None:
    cell = factory.make_cells(1)[0]
    blob = good_metrics()
    row = json.loads(nb.format_record(cell.module_hash, 108, cell.matrix, cell.ops, blob))
    assert row[0] == cell.module_hash
    assert row[1] == 108
    assert row[2] == "".join(str(v) for r in cell.matrix for v in r)
    assert row[3].split(",") == list(cell.ops)
    assert base64.b64decode(row[4]) == blob


# --------------------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------------------


class WatchedFile:
    """A binary file that records the size of every read."""

    def __init__(self, path: Path, reads: list[int]) -> None:
        self._inner = open(path, "rb")  # noqa: SIM115 - closed by __exit__
        self._reads = reads

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size > 0, "the reader must never read the whole file"
        data = self._inner.read(size)
        self._reads.append(len(data))
        return data

    def __enter__(self) -> WatchedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


def test_reading_streams_in_bounded_chunks(tmp_path: Path, monkeypatch: Any) -> None:
    cells = factory.make_cells(1000)
    path = factory.write_benchmark(tmp_path / "nb.tfrecord", cells)  # 3000 records
    size = path.stat().st_size
    chunk = 16 * 1024
    assert size > 20 * chunk
    ends = [*record_offsets(path)[1:], size]
    reads: list[int] = []
    monkeypatch.setattr(nb, "_open_binary", lambda p: WatchedFile(p, reads))

    records = nb.iter_training_records(path, chunk_size=chunk)
    first = next(records)
    assert first.module_hash == cells[0].module_hash
    assert sum(reads) <= chunk  # the first record needed one chunk, not the file
    count = 1
    for count, _ in enumerate(records, start=2):
        # never more than one chunk read beyond the end of the records consumed so far
        consumed = ends[count - 1]
        assert sum(reads) <= consumed + chunk
    assert count == 3000
    assert max(reads) <= chunk
    assert sum(reads) == size
    assert len(reads) >= size // chunk

    # summarise keeps per-cell sums only; it consumes the same stream
    reads.clear()
    results = list(nb.summarise(nb.iter_training_records(path, chunk_size=chunk)))
    assert len(results) == 1000
    assert max(reads) <= chunk


def test_more_than_three_evaluations_take_the_last_and_the_one_nearest_half() -> None:
    f = nb.EvaluationFigures
    entries = [
        f(0.0, 0.0, 0.1, 0.1, 0.1),
        f(27.0, 10.0, 0.5, 0.5, 0.5),
        f(54.0, 20.0, 0.6, 0.6, 0.6),
        f(81.0, 30.0, 0.7, 0.7, 0.7),
        f(108.0, 40.0, 0.8, 0.8, 0.8),
    ]
    rec = nb.parse_record(row_with_metrics(nb.encode_model_metrics(entries, 5)))
    assert rec.final == entries[4]
    assert rec.halfway == entries[2]


def test_nan_accuracy_is_an_error() -> None:
    nan = nb.EvaluationFigures(108.0, 1.0, 0.9, float("nan"), 0.9)
    blob = nb.encode_model_metrics([factory.initial_figures(), nan, nan], 5)
    with pytest.raises(TfnasError, match=r"evaluation_data\[2\] has validation_accuracy = nan"):
        nb.parse_record(row_with_metrics(blob))
