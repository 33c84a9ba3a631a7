"""nats-tss identity, converters and closed-form size, checked over the whole space."""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources
from pathlib import Path

import pytest

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import nats_tss

NASLIB_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "naslib_zc_sample_cifar10.csv"


def test_index_table_matches_bundled_reference() -> None:
    table = nats_tss.index_table()
    assert len(table) == 15625
    assert table[1] == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|"
    )
    assert len(set(table)) == 15625


def test_string_round_trip_and_index_lookup_for_all() -> None:
    for index, arch in enumerate(nats_tss.index_table()):
        assert nats_tss.format_arch(nats_tss.parse_arch(arch)) == arch
        assert nats_tss.index_of_arch(arch) == index
        assert nats_tss.resolve_arch(str(index)) == (index, arch)


def test_naslib_tuple_round_trips_for_all() -> None:
    seen = set()
    for arch in nats_tss.index_table():
        code = nats_tss.to_naslib_tuple(arch)
        assert nats_tss.from_naslib_tuple(code) == arch
        assert nats_tss.from_naslib_tuple(str(code)) == arch
        seen.add(code)
    assert len(seen) == 15625


def test_naslib_tuple_worked_example_swaps_positions_2_and_3() -> None:
    arch = nats_tss.from_naslib_tuple((4, 0, 3, 1, 4, 3))
    assert arch == (
        "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|"
    )


def test_isomorphism_classes_collapse_to_6466() -> None:
    keys = {nats_tss.iso_key(arch) for arch in nats_tss.index_table()}
    assert len(keys) == 6466
    # an op on a dead branch (node 1 feeds only `none` edges) does not change the class
    a = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    b = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    assert nats_tss.iso_key(a) == nats_tss.iso_key(b)
    c = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    assert nats_tss.iso_key(a) != nats_tss.iso_key(c)


@pytest.mark.parametrize(
    ("bad", "part"),
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "3 node groups"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read '<op>~0'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node group 2"),
    ],
)
def test_malformed_arch_strings_name_the_bad_part(bad: str, part: str) -> None:
    with pytest.raises(TfnasError, match="malformed arch string") as info:
        nats_tss.parse_arch(bad)
    assert part in str(info.value)


def test_out_of_range_index_is_an_error() -> None:
    with pytest.raises(TfnasError, match="out of range"):
        nats_tss.resolve_arch("15625")


def _reference() -> list[dict[str, str]]:
    blob = resources.files("tfnas_db.data").joinpath("nats_tss_reference.csv.gz").read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(blob).decode())))


@pytest.mark.parametrize(
    ("column", "classes", "size"),
    [
        ("params_m_cifar10", 10, 32),
        ("params_m_cifar100", 100, 32),
        ("params_m_imagenet16", 120, 16),
    ],
)
def test_closed_form_params_equal_reference_for_all(column: str, classes: int, size: int) -> None:
    for row in _reference():
        cost = nats_tss.arch_cost(row["arch_str"], classes, size)
        assert abs(cost.params_m - float(row[column])) <= 1e-6, row["index"]


def test_relu_units_take_seven_values_following_the_thesis_rule() -> None:
    values = set()
    for arch in nats_tss.index_table():
        counts = nats_tss.op_counts(arch)
        units = nats_tss.arch_cost(arch, 10, 32).relu_units
        assert units == 40960 + 143360 * counts.conv
        values.add(units)
    assert len(values) == 7


def test_flops_follow_the_naslib_sample_rule() -> None:
    for arch in nats_tss.index_table()[:2000]:
        c = nats_tss.op_counts(arch)
        expected = 7.943872 + 35.81952 * c.conv3 + 4.36224 * c.conv1 + 1.29024 * c.pool
        assert nats_tss.arch_cost(arch, 10, 32).flops_m == pytest.approx(expected, rel=1e-3)


def test_flops_and_params_match_naslib_sample() -> None:
    with NASLIB_SAMPLE.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 725
    for row in rows:
        cost = nats_tss.arch_cost(row["arch_str"], 10, 32)
        assert cost.params_m == pytest.approx(float(row["params"]), abs=1e-6)
        assert cost.flops_m == pytest.approx(float(row["flops"]), rel=1e-3)


def test_degree_counts_conv_and_skip_edges() -> None:
    arch = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|"
    assert nats_tss.degree(arch) == 4
