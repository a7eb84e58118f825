"""Tenant keys: the only way keys are made, and no input makes one outside ``tenant_id/``."""

from __future__ import annotations

import datetime as dt
import posixpath
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.hypothesis_profiles import examples

from securestore.keys import (
    MAX_KEY_BYTES,
    MODULE_PATTERN,
    TENANT_ID_PATTERN,
    TenantKey,
    build_key,
    ensure_within_tenant,
    parse_key,
    tenant_prefix,
)

# 2 x 5,000 = 10,000 examples for the two properties in CI (the fast profile: a twentieth).
PROPERTY_EXAMPLES = examples(5_000)
FUZZ = settings(max_examples=PROPERTY_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Built from alphabets rather than ``from_regex`` (several times faster to generate); the
# patterns themselves are checked against these below.
tenant_ids = st.builds(
    str.__add__, st.sampled_from(_ALNUM), st.text(alphabet=_ALNUM + "_-", max_size=62)
).filter(lambda t: t.lower() != "public")
modules = st.builds(str.__add__, st.sampled_from(_LOWER_ALNUM), st.text(alphabet=_LOWER_ALNUM + "_-", max_size=62))
offsets = st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59))
dates = st.one_of(
    st.dates(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.builds(dt.timezone, offsets)),
)
# Anything at all, including '/', '..', NUL, surrogates, combining marks and long strings.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["..", ".", "../..", "/", "\\", "a/../../b", "..\\x", "\x00", "public", "T001/..", " "]),
    st.text(alphabet=st.sampled_from("./\\a\x00\u0301é"), max_size=12),
    st.builds(str.__mul__, st.characters(), st.integers(min_value=900, max_value=1100)),
)
safe_filename_chars = st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Cn"), blacklist_characters="/\\")
filenames = st.text(alphabet=safe_filename_chars, min_size=1, max_size=120).filter(
    lambda name: (lambda folded: folded not in (".", "..") and "/" not in folded and "\\" not in folded)(
        unicodedata.normalize("NFKC", name)))


@FUZZ
@given(tenant=st.one_of(tenant_ids, hostile_text), module=st.one_of(modules, hostile_text),
       filename=st.one_of(filenames, hostile_text), date=dates)
def test_no_built_key_leaves_the_tenant_prefix(tenant, module, filename, date):
    """Whatever the input, build_key either raises ValueError or returns a key that stays
    under ``tenant/``: six segments, no '.'/'..' segment, normalises to itself, <= 1024 bytes."""
    try:
        key = build_key(tenant, module, filename, date)
    except ValueError:
        return
    assert key.startswith(tenant + "/")
    segments = key.split("/")
    assert len(segments) == 6
    assert segments[0] == tenant
    assert not {".", "..", ""} & set(segments)
    assert posixpath.normpath(key) == key
    assert "\\" not in key
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES


@FUZZ
@given(tenant=tenant_ids, module=modules, filename=filenames, date=dates)
def test_parse_inverts_build(tenant, module, filename, date):
    """parse(build(x)) == x, with x's filename in NFC and its date as the UTC calendar date."""
    nfc = unicodedata.normalize("NFC", filename)
    assume(nfc not in (".", ".."))
    utc_day = date.astimezone(dt.timezone.utc).date() if isinstance(date, dt.datetime) else date
    try:
        key = build_key(tenant, module, filename, date)
    except ValueError as exc:  # only the byte limit may refuse these inputs
        assert "too long" in str(exc)
        return
    assert parse_key(key) == TenantKey(tenant, module, utc_day, nfc)


@settings(max_examples=examples(200), deadline=None)
@given(tenant=tenant_ids, module=modules)
def test_generators_match_the_documented_patterns(tenant, module):
    """The fuzzing alphabets stay in step with the documented patterns."""
    assert TENANT_ID_PATTERN.fullmatch(tenant) and MODULE_PATTERN.fullmatch(module)


def test_example_key_from_the_seed():
    assert build_key("T001", "uploads", "po_1234.pdf", dt.date(2025, 12, 10)) == "T001/uploads/2025/12/10/po_1234.pdf"


def test_default_date_is_today_in_utc():
    today = dt.datetime.now(dt.timezone.utc).date()
    assert parse_key(build_key("T001", "uploads", "a.pdf")).date in (today, today + dt.timedelta(days=1))


def test_aware_datetime_is_converted_to_utc_date():
    late_evening_new_york = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert build_key("T001", "uploads", "a", late_evening_new_york) == "T001/uploads/2026/03/02/a"


def test_filenames_are_nfc_normalised():
    decomposed = "Zu\u0308rich.pdf"  # macOS-style NFD
    assert build_key("T001", "uploads", decomposed, dt.date(2026, 1, 1)).endswith("/Z\u00fcrich.pdf")


@pytest.mark.parametrize(
    ("args", "part"),
    [
        (("", "uploads", "a"), "tenant_id"),
        (("T 1", "uploads", "a"), "tenant_id"),
        (("../T1", "uploads", "a"), "tenant_id"),
        (("public", "uploads", "a"), "tenant_id"),
        (("PUBLIC", "uploads", "a"), "tenant_id"),
        (("T1", "Uploads", "a"), "module"),
        (("T1", "up/loads", "a"), "module"),
        (("T1", "uploads", ""), "filename"),
        (("T1", "uploads", "."), "filename"),
        (("T1", "uploads", ".."), "filename"),
        (("T1", "uploads", "a/b"), "filename"),
        (("T1", "uploads", "a\\b"), "filename"),
        (("T1", "uploads", "a\nb"), "filename"),
        (("T1", "uploads", "a\x00b"), "filename"),
        (("T1", "uploads", "a\x7f"), "filename"),
        (("T1", "uploads", "\ud800"), "filename"),
        (("T1", "uploads", "x" * 1024), "filename"),
    ],
)
def test_bad_parts_raise_value_error_naming_the_part(args, part):
    with pytest.raises(ValueError, match=part):
        build_key(*args, date=dt.date(2026, 1, 1))


def test_key_at_the_byte_limit_is_accepted_and_one_more_byte_refused():
    prefix_bytes = len("T1/uploads/2026/01/01/")
    at_limit = build_key("T1", "uploads", "é" * ((MAX_KEY_BYTES - prefix_bytes) // 2), dt.date(2026, 1, 1))
    assert len(at_limit.encode()) == MAX_KEY_BYTES
    with pytest.raises(ValueError, match="filename is too long"):
        build_key("T1", "uploads", "é" * ((MAX_KEY_BYTES - prefix_bytes) // 2) + "x", dt.date(2026, 1, 1))


def test_naive_datetime_refused():
    with pytest.raises(ValueError, match="naive"):
        build_key("T1", "uploads", "a", dt.datetime(2026, 1, 1, 12))


def test_allowed_modules_restrict_modules():
    assert build_key("T1", "drawings", "a", dt.date(2026, 1, 1), allowed_modules={"drawings"})
    with pytest.raises(ValueError, match="module 'cvs' is not allowed"):
        build_key("T1", "cvs", "a", dt.date(2026, 1, 1), allowed_modules={"drawings", "uploads"})


@pytest.mark.parametrize(
    "key",
    [
        "T1/uploads/2026/01/01",  # no filename
        "T1/uploads/2026/1/01/a",  # date not zero-padded
        "T1/uploads/2026/02/30/a",  # not a calendar date
        "T1/uploads/2026/01/01/..",
        "T1/uploads/2026/01/01/a/b",  # filename with a slash
        "T1/uploads/2026/01/01/Zu\u0308rich",  # not NFC: build_key could not have made it
        "public/uploads/2026/01/01/a",
        "/T1/uploads/2026/01/01/a",
        "T1//uploads/2026/01/01/a",
    ],
)
def test_parse_refuses_keys_build_could_not_make(key):
    with pytest.raises(ValueError):
        parse_key(key)


def test_tenant_prefix_and_ensure_within_tenant():
    assert tenant_prefix("T001") == "T001/"
    key = build_key("T001", "uploads", "a.pdf", dt.date(2026, 1, 1))
    assert ensure_within_tenant(key, "T001").tenant_id == "T001"
    with pytest.raises(ValueError, match="belongs to tenant 'T001', not to tenant 'T002'"):
        ensure_within_tenant(key, "T002")
    # A prefix match is not enough: T0010 is another tenant.
    with pytest.raises(ValueError, match="not to tenant 'T00'"):
        ensure_within_tenant(key, "T00")


@pytest.mark.parametrize("given", [None, "", ".", "T001", "T001/", "T001/docs/", "T001/docs/2026/01/02/a.pdf",
                                   "T0011/x", "T002/x", "../T001/x", "/T001/x", "x", "T001x", "t001/x"])
def test_scope_to_tenant_returns_only_keys_under_the_tenant(given):
    """The one "key must lie under the tenant" rule (ls, rm, download, uploads abort): whatever is
    typed, the result starts with ``T001/`` or the call refuses (a sibling tenant ``T0011`` or a
    case variant is outside)."""
    from securestore.keys import scope_to_tenant

    try:
        scoped = scope_to_tenant("T001", given)
    except ValueError as exc:
        assert "outside tenant 'T001'" in str(exc)
        assert given not in (None, "", ".", "T001", "T001/") and not given.startswith("T001/")
        return
    assert scoped.startswith("T001/")
    assert scoped == given or given in (None, "", ".", "T001")
