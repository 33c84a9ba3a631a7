"""NAS-Bench-101's benchmark files, read without TensorFlow or the protobuf package.

NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture
Search", ICML 2019) ships its training results as TFRecord files: ``nasbench_only108.tfrecord``
(108-epoch budget only, about 500 MB) and ``nasbench_full.tfrecord`` (budgets of 4, 12, 36
and 108 epochs, about 2 GB). Depending on TensorFlow just to iterate over them would pull a
multi-gigabyte framework into a project that never trains with it, so this module reads the
container, the JSON rows and the ``ModelMetrics`` protobuf messages by hand.

The layers, outermost first:

* TFRecord framing: per record a little-endian uint64 length, the masked CRC32C of those
  8 bytes (uint32), the data, and the masked CRC32C of the data (uint32). The mask is
  ``((crc >> 15) | (crc << 17)) + 0xA282EAD8`` modulo 2**32.
* Each record's data is a UTF-8 JSON list ``[module_hash, epochs, raw_adjacency,
  raw_operations, raw_metrics]``: the adjacency matrix as a string of V*V ``0``/``1``
  characters (row-major), the operations comma-separated, and the metrics as base64 of a
  serialized ``ModelMetrics`` message. One record per training repeat: every
  (module_hash, epochs) pair has three.
* ``ModelMetrics`` (proto2): ``repeated EvaluationData evaluation_data = 1``,
  ``optional int32 trainable_parameters = 2``, ``optional double total_time = 3``.
  ``EvaluationData``: doubles ``current_epoch = 1``, ``training_time = 2``,
  ``train_accuracy = 3``, ``validation_accuracy = 4``, ``test_accuracy = 5`` and
  ``optional string checkpoint_path = 6``. Training evaluates three times: at
  initialisation (epoch 0), halfway, and at the end, so ``evaluation_data`` holds those
  three in that order; the benchmark's own API reads entry 1 as "halfway" and entry 2 as
  "final" and ignores entry 0. Accuracies are fractions in 0..1.

The file is streamed chunk by chunk, so memory stays that of one chunk plus one record
whatever the file's size. CRC32C is computed by a C extension when one is importable
(``google_crc32c``, else ``crc32c``) and by a table-driven pure-Python loop otherwise, which
is correct but slow (about 10 MB/s): ``CRC32C_IMPLEMENTATION`` says which one is in use,
so a caller can suggest installing the package or skipping the check.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tfnas_db.errors import TfnasError

__all__ = [
    "CHUNK_SIZE",
    "CRC32C_IMPLEMENTATION",
    "CellResult",
    "EvaluationFigures",
    "TrainingRecord",
    "crc32c",
    "crc32c_python",
    "encode_evaluation_data",
    "encode_model_metrics",
    "format_record",
    "iter_tfrecord",
    "iter_training_records",
    "masked_crc32c",
    "parse_record",
    "summarise",
    "write_tfrecord",
]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(bytes_read, total_bytes)`` after each chunk read from the file."""

CHUNK_SIZE = 1 << 20
"""Bytes per read: large enough that per-read overhead vanishes, small enough to stream."""

# --------------------------------------------------------------------------------------
# CRC32C (Castagnoli), as TFRecord uses it
# --------------------------------------------------------------------------------------

_CRC32C_POLY = 0x82F63B78  # reflected form of the Castagnoli polynomial 0x1EDC6F41
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC32C_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc32c_python(data: bytes) -> int:
    """CRC32C of ``data`` by a byte-at-a-time table lookup.

    The fallback when no C extension is importable, and the reference the tests compare
    the fast implementations with. About 10 MB/s: fine for tests and small files, minutes
    for the 2 GB ``nasbench_full.tfrecord``.
    """
    crc = _U32
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def _select_crc32c() -> tuple[Callable[[bytes], int], str]:
    """The fastest CRC32C importable here, and its name for messages.

    ``google_crc32c`` falls back to its own pure-Python code (with a warning) when its C
    extension cannot load; that one is no faster than ours, so only its C build is taken.
    """
    try:
        import google_crc32c  # type: ignore[import-not-found]

        if getattr(google_crc32c, "implementation", "") == "c":
            return google_crc32c.value, "google_crc32c"
    except ImportError:
        pass
    try:
        import crc32c as crc32c_ext  # type: ignore[import-not-found]

        return crc32c_ext.crc32c, "crc32c"
    except ImportError:
        pass
    return crc32c_python, "python"


crc32c, CRC32C_IMPLEMENTATION = _select_crc32c()
"""``crc32c(data: bytes) -> int``: the implementation in use, and its name (``"python"``
when no C extension was found: slow on the full benchmark file)."""


def masked_crc32c(data: bytes) -> int:
    """The CRC32C of ``data`` masked as TFRecord stores it.

    TFRecord masks its checksums (rotate right by 15 bits, add a constant) because a CRC
    computed over data that itself embeds CRCs is prone to degenerate values.
    """
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & _U32


# --------------------------------------------------------------------------------------
# TFRecord container
# --------------------------------------------------------------------------------------

_HEADER = struct.Struct("<QI")  # length, masked CRC32C of the 8 length bytes
_FOOTER = struct.Struct("<I")  # masked CRC32C of the data
_FRAMING = _HEADER.size + _FOOTER.size


def _open_binary(path: Path) -> BinaryIO:
    """Opens ``path`` for reading; a seam for tests that watch how the file is read."""
    return open(path, "rb")


def _iter_framed(
    path: Path,
    check_crc: bool,
    progress: ProgressCallback | None,
    chunk_size: int,
) -> Iterator[tuple[int, bytes]]:
    """Yields ``(byte offset of the record, data)`` for each record of ``path``.

    Holds at most one chunk plus one record in memory. A length field that points past
    the end of the file is reported as truncation before any read is attempted, so a
    corrupt length (read with ``check_crc=False``) cannot make it allocate gigabytes.
    """
    try:
        total = path.stat().st_size
        handle = _open_binary(path)
    except OSError as exc:
        raise TfnasError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        buf = b""
        pos = 0  # next unread byte in buf
        base = 0  # file offset of buf[0]
        read_so_far = 0
        eof = False

        def more(need: int) -> None:
            """Makes ``buf[pos:]`` hold at least ``need`` bytes, unless the file ends first."""
            nonlocal buf, pos, base, read_so_far, eof
            parts = [buf[pos:]]
            have = len(parts[0])
            base += pos
            pos = 0
            while have < need and not eof:
                try:
                    chunk = handle.read(chunk_size)
                except OSError as exc:
                    raise TfnasError(
                        f"{path}: read failed at byte offset {base + have}: {exc.strerror or exc}"
                    ) from exc
                if not chunk:
                    eof = True
                    break
                parts.append(chunk)
                have += len(chunk)
                read_so_far += len(chunk)
                if progress is not None:
                    progress(read_so_far, total)
            buf = parts[0] if len(parts) == 1 else b"".join(parts)

        while True:
            if len(buf) - pos < _HEADER.size:
                more(_HEADER.size)
                if len(buf) == 0:
                    return  # a clean end: the last record ended where the file does
                if len(buf) < _HEADER.size:
                    raise TfnasError(
                        f"{path}: file ends inside the header of the record at byte offset "
                        f"{base} ({len(buf)} of {_HEADER.size} bytes): truncated download?"
                    )
            offset = base + pos
            length, length_crc = _HEADER.unpack_from(buf, pos)
            if check_crc and masked_crc32c(buf[pos : pos + 8]) != length_crc:
                raise TfnasError(
                    f"{path}: bad length checksum in the record at byte offset {offset}: "
                    "the file is corrupt (or not a TFRecord file)"
                )
            need = _FRAMING + length
            if offset + need > total:
                raise TfnasError(
                    f"{path}: the record at byte offset {offset} needs {need} bytes but the "
                    f"file ends {total - offset} bytes later: truncated download?"
                )
            if len(buf) - pos < need:
                more(need)
                if len(buf) < need:  # the file shrank while we read it
                    raise TfnasError(
                        f"{path}: file ends inside the record at byte offset {offset}: "
                        "truncated download?"
                    )
            start = pos + _HEADER.size
            data = buf[start : start + length]
            if check_crc:
                (data_crc,) = _FOOTER.unpack_from(buf, start + length)
                if masked_crc32c(data) != data_crc:
                    raise TfnasError(
                        f"{path}: bad data checksum in the record at byte offset {offset}: "
                        "the file is corrupt"
                    )
            pos += need
            yield offset, data


def iter_tfrecord(
    path: str | os.PathLike[str],
    check_crc: bool = True,
    *,
    progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yields the data of each record of a TFRecord file, in file order.

    Streams the file ``chunk_size`` bytes at a time. Raises ``TfnasError`` naming the file
    and the record's byte offset on truncation or a checksum mismatch. ``check_crc=False``
    skips both CRCs (with the pure-Python CRC32C, reading is then four times faster);
    framing is still checked.
    """
    for _, data in _iter_framed(Path(path), check_crc, progress, chunk_size):
        yield data


def _frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (
        header + struct.pack("<I", masked_crc32c(header)) + data + _FOOTER.pack(masked_crc32c(data))
    )


def write_tfrecord(path: str | os.PathLike[str], records: Iterable[bytes]) -> int:
    """Writes ``records`` as a TFRecord file (no compression) and returns how many.

    Used by tests and fixtures to make files in the real format without TensorFlow.
    """
    count = 0
    with open(path, "wb") as out:
        for data in records:
            out.write(_frame(bytes(data)))
            count += 1
    return count


# --------------------------------------------------------------------------------------
# Protobuf wire format (only what ModelMetrics and EvaluationData use)
# --------------------------------------------------------------------------------------

_VARINT, _I64, _LEN, _SGROUP, _EGROUP, _I32 = 0, 1, 2, 3, 4, 5
_DOUBLE = struct.Struct("<d")
_WIRE_NAMES = {
    _VARINT: "varint",
    _I64: "64-bit",
    _LEN: "length-delimited",
    _SGROUP: "start-group",
    _EGROUP: "end-group",
    _I32: "32-bit",
}


class _WireError(ValueError):
    """A malformed protobuf message; turned into a TfnasError by ``parse_record``."""


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decodes a base-128 varint at ``pos``; returns (value, position after it)."""
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise _WireError("message ends inside a varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _WireError("varint longer than 10 bytes")


def _skip_field(buf: bytes, pos: int, field: int, wire: int, depth: int = 0) -> int:
    """Skips the value of an unknown field, returning the position after it.

    Handles every wire type, including the deprecated groups (skipped to their matching
    end-group, nested ones included), so messages written by a newer schema still parse.
    """
    end = len(buf)
    if wire == _VARINT:
        return _read_varint(buf, pos)[1]
    if wire == _I64:
        pos += 8
    elif wire == _I32:
        pos += 4
    elif wire == _LEN:
        size, pos = _read_varint(buf, pos)
        pos += size
    elif wire == _SGROUP:
        if depth > 64:
            raise _WireError("groups nested too deeply")
        while True:
            if pos >= end:
                raise _WireError(f"message ends inside group {field}")
            key, pos = _read_varint(buf, pos)
            inner_field, inner_wire = key >> 3, key & 7
            if inner_wire == _EGROUP:
                if inner_field != field:
                    raise _WireError(f"group {field} closed by end-group {inner_field}")
                return pos
            pos = _skip_field(buf, pos, inner_field, inner_wire, depth + 1)
    elif wire == _EGROUP:
        raise _WireError(f"end-group {field} without a start-group")
    else:
        raise _WireError(f"field {field} has invalid wire type {wire}")
    if pos > end:
        raise _WireError(f"message ends inside field {field}")
    return pos


def _decode_message(buf: bytes, schema: dict[int, int], what: str) -> dict[int, list[Any]]:
    """Decodes ``buf`` against ``schema`` (field number -> wire type).

    Returns field number -> the values seen in order: doubles as float, varints as int
    (raw, unsigned), length-delimited fields as bytes. Unknown fields are skipped. A known
    field with another wire type is an error, not an unknown field: the schema is fixed
    and a mismatch here means a corrupt blob rather than a newer writer.
    """
    values: dict[int, list[Any]] = {}
    pos = 0
    end = len(buf)
    while pos < end:
        key = buf[pos]
        if key < 0x80:  # one-byte keys (field numbers below 16) are all this schema uses
            pos += 1
        else:
            key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _WireError(f"{what} has a field numbered 0")
        expected = schema.get(field)
        if expected is None:
            pos = _skip_field(buf, pos, field, wire)
            continue
        if wire != expected:
            raise _WireError(
                f"{what} field {field} has wire type {_WIRE_NAMES.get(wire, wire)}, "
                f"expected {_WIRE_NAMES[expected]}"
            )
        if wire == _I64:
            if pos + 8 > end:
                raise _WireError(f"{what} ends inside field {field}")
            value: Any = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        elif wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        else:  # _LEN
            if pos < end and buf[pos] < 0x80:
                size = buf[pos]
                pos += 1
            else:
                size, pos = _read_varint(buf, pos)
            if pos + size > end:
                raise _WireError(f"{what} ends inside field {field}")
            value = buf[pos : pos + size]
            pos += size
        values.setdefault(field, []).append(value)
    return values


def _write_varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1  # negative int32/int64 are sign-extended to 10 bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _write_varint(field << 3 | wire)


def _double_field(field: int, value: float) -> bytes:
    return _key(field, _I64) + _DOUBLE.pack(value)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _write_varint(len(payload)) + payload


# --------------------------------------------------------------------------------------
# Rows: JSON + ModelMetrics
# --------------------------------------------------------------------------------------

_EVALUATION_SCHEMA = {1: _I64, 2: _I64, 3: _I64, 4: _I64, 5: _I64, 6: _LEN}
_METRICS_SCHEMA = {1: _LEN, 2: _VARINT, 3: _I64}
_EVALUATION_DATA_KEY = 1 << 3 | _LEN
_PARAMETERS_KEY = 2 << 3 | _VARINT
_TOTAL_TIME_KEY = 3 << 3 | _I64
_EVALUATION_TAGS = bytes(number << 3 | _I64 for number in range(1, 6))
_EVALUATION_LAYOUT = struct.Struct("<xdxdxdxdxd")
_EVALUATION_DOUBLES = frozenset(range(1, 6))
_FIGURE_FIELDS = {
    2: "training_time",
    3: "train_accuracy",
    4: "validation_accuracy",
    5: "test_accuracy",
}


@dataclass(frozen=True, slots=True)
class EvaluationFigures:
    """One evaluation during a training run, as the file stores it.

    Accuracies are fractions in 0..1 (the benchmark's unit; ``summarise`` converts to
    percent). ``training_time`` is seconds of training up to this point, evaluation
    excluded. ``epoch`` is the epoch reached, ``None`` if the writer left it unset.
    """

    epoch: float | None
    training_time: float
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """One training repeat of one cell at one epoch budget: one record of the file.

    ``halfway`` is ``None`` when the run has no intermediate evaluation (the released
    files always have one). ``total_time`` (training plus evaluation, seconds) is
    ``None`` when unset.
    """

    module_hash: str
    epochs: int
    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]
    trainable_parameters: int
    total_time: float | None
    halfway: EvaluationFigures | None
    final: EvaluationFigures


def _figure_error(what: str, name: str, value: float) -> _WireError:
    if name.endswith("accuracy") and math.isfinite(value) and value > 1.0:
        return _WireError(f"{what} has {name} = {value!r}, outside 0..1")
    return _WireError(f"{what} has {name} = {value!r}")


def _decode_evaluation(blob: bytes, index: int) -> EvaluationFigures:
    """Decodes one ``EvaluationData``, requiring the four figures the benchmark reports.

    protoc writes fields in number order, so the five doubles nearly always open the
    message as 45 bytes of fixed layout; those are unpacked in one call (a few times
    faster than the general decoder, which matters over five million records) and the
    rest, if any, goes through the general decoder. Anything else takes the general path.
    """
    what = f"evaluation_data[{index}]"
    epoch: float | None
    if len(blob) >= 45 and blob[0:45:9] == _EVALUATION_TAGS:
        epoch, training_time, train, valid, test = _EVALUATION_LAYOUT.unpack_from(blob)
        # The rest (checkpoint_path, unknown fields) is validated all the same; should it
        # repeat a figure, the general path applies proto2's last-one-wins.
        if len(blob) == 45 or not (
            _decode_message(blob[45:], _EVALUATION_SCHEMA, what).keys() & _EVALUATION_DOUBLES
        ):
            return _checked_figures(what, epoch, training_time, train, valid, test)
    fields = _decode_message(blob, _EVALUATION_SCHEMA, what)
    figures = []
    for number, name in _FIGURE_FIELDS.items():
        seen = fields.get(number)
        if not seen:
            raise _WireError(f"{what} has no {name}")
        figures.append(seen[-1])  # proto2: the last occurrence of a scalar field wins
    epochs = fields.get(1)
    return _checked_figures(what, epochs[-1] if epochs else None, *figures)


def _checked_figures(
    what: str,
    epoch: float | None,
    training_time: float,
    train: float,
    valid: float,
    test: float,
) -> EvaluationFigures:
    """The figures, once each is known to be in range (NaN fails every comparison)."""
    if not (
        0.0 <= train <= 1.0
        and 0.0 <= valid <= 1.0
        and 0.0 <= test <= 1.0
        and 0.0 <= training_time < math.inf
    ):
        for name, value in zip(
            _FIGURE_FIELDS.values(), (training_time, train, valid, test), strict=True
        ):
            upper = math.inf if name == "training_time" else 1.0
            if not (0.0 <= value <= upper and value < math.inf):
                raise _figure_error(what, name, value)
    return EvaluationFigures(epoch, training_time, train, valid, test)


def _decode_model_metrics(
    blob: bytes,
) -> tuple[int, float | None, EvaluationFigures | None, EvaluationFigures]:
    """(trainable_parameters, total_time, halfway, final) of a ``ModelMetrics`` blob.

    Entry 0 of ``evaluation_data`` (at initialisation) is not decoded beyond its framing.
    With the usual three entries, halfway is entry 1 and final entry 2, as in the
    benchmark's API. With only two, there is no halfway. With more (no released file has
    them), final is the last and halfway the intermediate one nearest half the final epoch.
    """
    evaluations: list[bytes] = []
    params: int | None = None
    total_time: float | None = None
    # The general decoder, unrolled for this one message: it runs five million times on
    # the full file. Same rules: unknown fields skipped, known ones with a foreign wire
    # type rejected, the last occurrence of a scalar winning.
    pos = 0
    end = len(blob)
    while pos < end:
        key = blob[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _read_varint(blob, pos)
        if key == _EVALUATION_DATA_KEY:
            if pos < end and blob[pos] < 0x80:
                size = blob[pos]
                pos += 1
            else:
                size, pos = _read_varint(blob, pos)
            if pos + size > end:
                raise _WireError("ModelMetrics ends inside field 1")
            evaluations.append(blob[pos : pos + size])
            pos += size
        elif key == _PARAMETERS_KEY:
            params, pos = _read_varint(blob, pos)
        elif key == _TOTAL_TIME_KEY:
            if pos + 8 > end:
                raise _WireError("ModelMetrics ends inside field 3")
            total_time = _DOUBLE.unpack_from(blob, pos)[0]
            pos += 8
        else:
            field, wire = key >> 3, key & 7
            if field == 0:
                raise _WireError("ModelMetrics has a field numbered 0")
            expected = _METRICS_SCHEMA.get(field)
            if expected is not None:
                raise _WireError(
                    f"ModelMetrics field {field} has wire type {_WIRE_NAMES.get(wire, wire)}, "
                    f"expected {_WIRE_NAMES[expected]}"
                )
            pos = _skip_field(blob, pos, field, wire)
    if params is None:
        raise _WireError("ModelMetrics has no trainable_parameters")
    raw = params & _U32  # int32: a negative value arrives sign-extended to 64 bits
    trainable_parameters = raw - (1 << 32) if raw & 0x80000000 else raw
    if trainable_parameters < 0:
        raise _WireError(f"ModelMetrics has trainable_parameters = {trainable_parameters}")
    if len(evaluations) < 2:
        raise _WireError(
            f"ModelMetrics has {len(evaluations)} evaluation_data entries, "
            "expected 3 (initial, halfway, final)"
        )
    last = len(evaluations) - 1
    final = _decode_evaluation(evaluations[last], last)
    halfway = None
    if last == 2:
        halfway = _decode_evaluation(evaluations[1], 1)
    elif last > 2:
        middle = [_decode_evaluation(evaluations[i], i) for i in range(1, last)]
        target = (final.epoch or 0.0) / 2
        halfway = min(middle, key=lambda e: abs((e.epoch or 0.0) - target))
    return trainable_parameters, total_time, halfway, final


# (raw adjacency, raw operations) -> (matrix, ops) of recent rows. Repeats and budgets of
# one cell usually sit together in the file, so this skips most of the string work, and
# records of one cell share their tuples. Cleared when full, so memory stays bounded.
_CELLS: dict[tuple[str, str], tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]] = {}
_CELLS_MAX = 4096


def _parse_cell(
    module_hash: str, raw_adjacency: str, raw_operations: str
) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]:
    """The matrix and operations of a row, checked for shape, and remembered."""
    dim = math.isqrt(len(raw_adjacency))
    if dim == 0 or dim * dim != len(raw_adjacency) or raw_adjacency.strip("01"):
        raise _row_error(
            f"module {module_hash}: adjacency {raw_adjacency[:64]!r} is not a square "
            "matrix of 0/1 characters"
        )
    bits = tuple(map(int, raw_adjacency))
    matrix = tuple(bits[i : i + dim] for i in range(0, dim * dim, dim))
    ops = tuple(raw_operations.split(","))
    if len(ops) != dim or not all(ops):
        raise _row_error(
            f"module {module_hash}: operations {raw_operations!r} do not name one "
            f"operation per vertex of the {dim}x{dim} adjacency matrix"
        )
    if len(_CELLS) >= _CELLS_MAX:
        _CELLS.clear()
    _CELLS[raw_adjacency, raw_operations] = (matrix, ops)
    return matrix, ops


def _row_error(message: str) -> TfnasError:
    return TfnasError(f"malformed NAS-Bench-101 row: {message}")


def parse_record(data: bytes) -> TrainingRecord:
    """Decodes one record's data (the JSON row and its metrics) into a ``TrainingRecord``.

    Raises ``TfnasError`` naming what is wrong: not UTF-8 JSON, the wrong shape of list, an
    adjacency string that is not a square of 0/1, an operation count that does not match,
    metrics that are not base64 or not a valid ``ModelMetrics`` message.
    """
    try:
        row = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _row_error(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise _row_error(f"not JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(row, list) or len(row) != 5:
        shape = f"a list of {len(row)}" if isinstance(row, list) else type(row).__name__
        raise _row_error(
            f"expected a JSON list [module_hash, epochs, adjacency, operations, metrics], "
            f"got {shape}"
        )
    module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = row
    if not isinstance(module_hash, str) or not module_hash:
        raise _row_error(f"module_hash is {module_hash!r}, expected a non-empty string")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs <= 0:
        raise _row_error(f"module {module_hash}: epochs is {epochs!r}, expected an integer > 0")
    for name, value in (
        ("adjacency", raw_adjacency),
        ("operations", raw_operations),
        ("metrics", raw_metrics),
    ):
        if not isinstance(value, str):
            raise _row_error(f"module {module_hash}: {name} is {type(value).__name__}, not str")
    cell = _CELLS.get((raw_adjacency, raw_operations))
    if cell is None:
        cell = _parse_cell(module_hash, raw_adjacency, raw_operations)
    matrix, ops = cell
    try:
        blob = base64.b64decode(raw_metrics, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _row_error(f"module {module_hash}: metrics are not base64 ({exc})") from exc
    try:
        params, total_time, halfway, final = _decode_model_metrics(blob)
    except _WireError as exc:
        raise _row_error(
            f"module {module_hash}: metrics are not a valid ModelMetrics message ({exc})"
        ) from exc
    return TrainingRecord(
        module_hash=module_hash,
        epochs=epochs,
        matrix=matrix,
        ops=ops,
        trainable_parameters=params,
        total_time=total_time,
        halfway=halfway,
        final=final,
    )


def iter_training_records(
    path: str | os.PathLike[str],
    *,
    check_crc: bool = True,
    progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[TrainingRecord]:
    """Yields every training repeat of a NAS-Bench-101 ``.tfrecord`` file, in file order.

    ``progress(bytes_read, total_bytes)`` is called after each chunk read, for a progress
    bar. Errors name the file and the byte offset of the offending record.
    """
    path = Path(path)
    for offset, data in _iter_framed(path, check_crc, progress, chunk_size):
        try:
            yield parse_record(data)
        except TfnasError as exc:
            raise TfnasError(f"{path}: record at byte offset {offset}: {exc}") from exc


# --------------------------------------------------------------------------------------
# Writers (tests and fixtures)
# --------------------------------------------------------------------------------------


def encode_evaluation_data(figures: EvaluationFigures, checkpoint_path: str | None = None) -> bytes:
    """Serializes one ``EvaluationData`` message (fields in number order, as protoc does)."""
    out = b""
    if figures.epoch is not None:
        out += _double_field(1, figures.epoch)
    out += _double_field(2, figures.training_time)
    out += _double_field(3, figures.train_accuracy)
    out += _double_field(4, figures.validation_accuracy)
    out += _double_field(5, figures.test_accuracy)
    if checkpoint_path is not None:
        out += _len_field(6, checkpoint_path.encode("utf-8"))
    return out


def encode_model_metrics(
    evaluation_data: Sequence[EvaluationFigures | bytes],
    trainable_parameters: int,
    total_time: float | None = None,
) -> bytes:
    """Serializes a ``ModelMetrics`` message.

    ``evaluation_data`` entries are figures (encoded by ``encode_evaluation_data``) or
    already-serialized ``EvaluationData`` bytes, so tests can slip unknown fields in.
    """
    out = b""
    for entry in evaluation_data:
        payload = entry if isinstance(entry, bytes) else encode_evaluation_data(entry)
        out += _len_field(1, payload)
    out += _key(2, _VARINT) + _write_varint(trainable_parameters)
    if total_time is not None:
        out += _double_field(3, total_time)
    return out


def format_record(
    module_hash: str,
    epochs: int,
    matrix: Sequence[Sequence[int]],
    ops: Sequence[str],
    metrics: bytes,
) -> bytes:
    """One record's data as the benchmark writes it: the UTF-8 JSON row."""
    adjacency = "".join(str(int(v)) for row in matrix for v in row)
    row = [module_hash, epochs, adjacency, ",".join(ops), base64.b64encode(metrics).decode()]
    return json.dumps(row).encode("utf-8")


# --------------------------------------------------------------------------------------
# Per-cell means over repeats
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellResult:
    """The mean over the training repeats of one cell at one epoch budget.

    Accuracies are in percent (the file's fractions times 100), times in seconds. The
    ``halfway_*`` means are ``None`` unless every repeat has a halfway evaluation, and
    ``total_time`` unless every repeat records one: a mean over a subset would mislead.
    """

    module_hash: str
    epochs: int
    n_repeats: int
    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]
    trainable_parameters: int
    final_train_accuracy: float
    final_validation_accuracy: float
    final_test_accuracy: float
    final_training_time: float
    halfway_epoch: float | None
    halfway_train_accuracy: float | None
    halfway_validation_accuracy: float | None
    halfway_test_accuracy: float | None
    halfway_training_time: float | None
    total_time: float | None


# Running sums per (hash, epochs), one row of _STRIDE doubles in a shared array: a Python
# object per cell and figure would cost several hundred bytes per cell, and the full file
# has about 1.7 million cells.
_N, _PARAMS, _F_TRAIN, _F_VALID, _F_TEST, _F_TIME = 0, 1, 2, 3, 4, 5
_H_N, _H_TRAIN, _H_VALID, _H_TEST, _H_TIME, _HE_N, _H_EPOCH = 6, 7, 8, 9, 10, 11, 12
_T_N, _T_SUM = 13, 14
_STRIDE = 15


def summarise(records: Iterable[TrainingRecord]) -> Iterator[CellResult]:
    """Averages the repeats of each (module_hash, epochs), in order of first appearance.

    Records of one cell need not be adjacent. Memory grows with the number of distinct
    cells, not records: running sums live in one flat array, and each hash's matrix and
    operations are kept once (the first seen, as the benchmark's API does), their rows and
    names shared between hashes. Raises ``TfnasError`` when the repeats of one cell
    disagree on the parameter count, which would mean rows of two networks under one hash.
    """
    sums = array("d")
    cells: dict[tuple[str, int], int] = {}
    fixed: dict[str, tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]] = {}
    interned_rows: dict[tuple[int, ...], tuple[int, ...]] = {}
    interned_ops: dict[tuple[str, ...], tuple[str, ...]] = {}
    zeros = array("d", bytes(8 * _STRIDE))
    for rec in records:
        if rec.module_hash not in fixed:
            matrix = tuple(interned_rows.setdefault(r, r) for r in rec.matrix)
            fixed[rec.module_hash] = (matrix, interned_ops.setdefault(rec.ops, rec.ops))
        key = (rec.module_hash, rec.epochs)
        row = cells.get(key)
        if row is None:
            row = cells[key] = len(sums)
            sums.extend(zeros)
            sums[row + _PARAMS] = rec.trainable_parameters
        elif sums[row + _PARAMS] != rec.trainable_parameters:
            raise TfnasError(
                f"module {rec.module_hash}, {rec.epochs} epochs: repeats disagree on "
                f"trainable_parameters ({int(sums[row + _PARAMS])} and "
                f"{rec.trainable_parameters})"
            )
        final = rec.final
        sums[row + _N] += 1
        sums[row + _F_TRAIN] += final.train_accuracy
        sums[row + _F_VALID] += final.validation_accuracy
        sums[row + _F_TEST] += final.test_accuracy
        sums[row + _F_TIME] += final.training_time
        half = rec.halfway
        if half is not None:
            sums[row + _H_N] += 1
            sums[row + _H_TRAIN] += half.train_accuracy
            sums[row + _H_VALID] += half.validation_accuracy
            sums[row + _H_TEST] += half.test_accuracy
            sums[row + _H_TIME] += half.training_time
            if half.epoch is not None:
                sums[row + _HE_N] += 1
                sums[row + _H_EPOCH] += half.epoch
        if rec.total_time is not None:
            sums[row + _T_N] += 1
            sums[row + _T_SUM] += rec.total_time
    for (module_hash, epochs), row in cells.items():
        matrix, ops = fixed[module_hash]
        s = sums[row : row + _STRIDE]
        n = s[_N]
        half = s[_H_N] == n
        yield CellResult(
            module_hash=module_hash,
            epochs=epochs,
            n_repeats=int(n),
            matrix=matrix,
            ops=ops,
            trainable_parameters=int(s[_PARAMS]),
            final_train_accuracy=100.0 * (s[_F_TRAIN] / n),
            final_validation_accuracy=100.0 * (s[_F_VALID] / n),
            final_test_accuracy=100.0 * (s[_F_TEST] / n),
            final_training_time=s[_F_TIME] / n,
            halfway_epoch=s[_H_EPOCH] / n if half and s[_HE_N] == n else None,
            halfway_train_accuracy=100.0 * (s[_H_TRAIN] / n) if half else None,
            halfway_validation_accuracy=100.0 * (s[_H_VALID] / n) if half else None,
            halfway_test_accuracy=100.0 * (s[_H_TEST] / n) if half else None,
            halfway_training_time=s[_H_TIME] / n if half else None,
            total_time=s[_T_SUM] / n if s[_T_N] == n else None,
        )
