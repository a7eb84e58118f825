"""TransferConfig, size parsing and part planning: S3's multipart limits are enforced."""

from __future__ import annotations

import math

import pytest

from securestore.cli import main
from securestore.transfer.config import (
    GiB, MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE, MiB, TiB, TransferConfig, format_size,
    parse_size, plan_parts,
)


@pytest.mark.parametrize("text, expected", [
    ("8MiB", 8 * MiB), ("8M", 8 * MiB), ("16 MiB", 16 * MiB), ("1GiB", GiB), ("64KiB", 64 * 1024),
    ("5242880", 5 * MiB), ("1.5GiB", 3 * GiB // 2),
])
def test_parse_size_reads_binary_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "8 parsecs", "-5MiB", "1.5B"])
def test_parse_size_rejects_nonsense_naming_the_value(text):
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def test_format_size_round_trips_through_parse_size():
    for size in (5 * MiB, 8 * MiB, 3 * GiB, 1536, 12345):
        assert parse_size(format_size(size)) == size


def test_part_size_below_the_5_mib_floor_is_refused():
    """The public API enforces S3's real minimum: there is no smaller part size to ask for."""
    with pytest.raises(ValueError, match="part_size 4MiB is outside S3's limits"):
        TransferConfig(part_size=4 * MiB)
    assert TransferConfig(part_size=MIN_PART_SIZE).part_size == 5 * MiB


def test_part_size_above_5_gib_is_refused():
    with pytest.raises(ValueError, match="part_size"):
        TransferConfig(part_size=MAX_PART_SIZE + 1, multipart_threshold=8 * MiB)


@pytest.mark.parametrize("field, value, message", [
    ("concurrency", 0, "concurrency"), ("concurrency", 65, "concurrency"),
    ("checksum_algorithm", "md5", "checksum_algorithm"), ("max_attempts", 0, "max_attempts"),
    ("multipart_threshold", 0, "multipart_threshold"), ("backoff_base_seconds", -1, "backoff"),
    ("grace_seconds", -1, "grace_seconds"),
])
def test_bad_config_values_fail_naming_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        TransferConfig(**{field: value})


def test_single_put_threshold_defaults_to_the_part_size():
    assert TransferConfig(part_size=5 * MiB, concurrency=1).multipart_threshold == 5 * MiB
    assert TransferConfig(part_size=16 * MiB).multipart_threshold == 16 * MiB


def test_single_put_threshold_cannot_exceed_the_memory_budget():
    with pytest.raises(ValueError, match="multipart_threshold"):
        TransferConfig(part_size=8 * MiB, concurrency=2, multipart_threshold=17 * MiB)


def test_plan_keeps_the_requested_part_size_when_it_fits():
    plan = plan_parts(100 * MiB + 1, 8 * MiB)
    assert (plan.part_size, plan.count) == (8 * MiB, 13)
    assert plan.length(13) == 100 * MiB + 1 - 12 * 8 * MiB
    assert sum(plan.length(n) for n in range(1, plan.count + 1)) == plan.file_size


@pytest.mark.parametrize("file_size", [80 * GiB, 500 * GiB, 4 * TiB, MAX_PARTS * 8 * MiB + 1])
def test_plan_grows_the_part_size_to_stay_within_10000_parts(file_size):
    plan = plan_parts(file_size, 8 * MiB)
    assert plan.count <= MAX_PARTS
    assert plan.part_size >= 8 * MiB and plan.part_size % MiB == 0
    # the smallest whole-MiB size that fits: one MiB less would need too many parts
    assert math.ceil(file_size / (plan.part_size - MiB)) > MAX_PARTS
    assert (plan.count - 1) * plan.part_size < file_size <= plan.count * plan.part_size


def test_exactly_10000_parts_is_allowed_without_growing():
    plan = plan_parts(MAX_PARTS * 8 * MiB, 8 * MiB)
    assert (plan.part_size, plan.count) == (8 * MiB, MAX_PARTS)


def test_file_too_large_for_s3_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        plan_parts(MAX_PARTS * MAX_PART_SIZE + 1, 8 * MiB)


def test_cli_refuses_a_part_size_below_5_mib(tmp_path, capsys):
    """The CLI goes through the same validation: exit 2 with the reason, nothing sent."""
    payload = tmp_path / "f.bin"
    payload.write_bytes(b"x")
    code = main(["upload", str(payload), "--key", "k", "--bucket", "b", "--region", "us-east-1",
                 "--part-size", "1MiB", "--endpoint-url", "http://127.0.0.1:9"])
    assert code == 2
    assert "--part-size 1MiB is outside S3's limits" in capsys.readouterr().err  # the flag, not the field


def test_cli_needs_module_with_tenant(tmp_path, capsys):
    payload = tmp_path / "f.bin"
    payload.write_bytes(b"x")
    code = main(["upload", str(payload), "--tenant", "acme", "--bucket", "b", "--region", "us-east-1",
                 "--endpoint-url", "http://127.0.0.1:9"])
    assert code == 2
    assert "--tenant needs --module" in capsys.readouterr().err


from hypothesis import given, strategies as st  # noqa: E402


@given(file_size=st.integers(min_value=0, max_value=MAX_PARTS * MAX_PART_SIZE),
       part_size=st.integers(min_value=MIN_PART_SIZE, max_value=MAX_PART_SIZE))
def test_any_plan_covers_the_file_in_at_most_10000_valid_parts(file_size, part_size):
    plan = plan_parts(file_size, part_size)
    assert 1 <= plan.count <= MAX_PARTS
    assert part_size <= plan.part_size <= MAX_PART_SIZE
    lengths = [plan.length(1), plan.length(plan.count)]
    assert plan.offset(plan.count) + plan.length(plan.count) == file_size
    assert all(0 <= n <= plan.part_size for n in lengths)
    if plan.count > 1:  # every part but the last meets S3's minimum
        assert plan.length(plan.count - 1) >= MIN_PART_SIZE and plan.length(plan.count) > 0
