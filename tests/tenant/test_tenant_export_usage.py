"""``export_tenant`` (the recursive download engine, tenant-scoped) and tenant usage from a
listing and from an S3 Inventory report (CSV; Parquet refused clearly without pyarrow)."""

from __future__ import annotations

import pytest

from securestore.tenant.export import export_tenant
from securestore.tenant.inventory import InventoryError, usage_from_inventory
from securestore.tenant.usage import usage_from_listing
from support.tenant_data import LOOK_ALIKES, seed, write_inventory


def test_export_writes_every_current_object_of_the_tenant_and_nothing_else(s3, bucket, tmp_path):
    """Each current object of ``acme`` lands at DIR/<key after acme/> with its bytes; deleted
    keys (a delete marker on top) and the look-alike tenants' objects do not."""
    stored = seed(s3, bucket)
    report = export_tenant(s3, bucket, "acme", tmp_path / "out")
    written = {str(p.relative_to(tmp_path / "out")): p.read_bytes()
               for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert written == {key[len("acme/"):]: body for key, body in stored["acme"].current.items()}
    assert report.files == len(written) and report.complete
    assert report.bytes == sum(len(b) for b in written.values())
    assert report.verified + len(report.not_verified) == report.files


def test_export_verifies_against_the_stored_checksum(s3, bucket, tmp_path):
    """An object uploaded with a checksum is reported verified."""
    s3.put_object(Bucket=bucket, Key="acme/invoices/2026/01/31/a.pdf", Body=b"abc", ChecksumAlgorithm="CRC32C")
    report = export_tenant(s3, bucket, "acme", tmp_path / "out")
    assert report.verified == 1 and report.not_verified == []


def test_export_refuses_a_bad_tenant_id_before_any_request(s3, bucket, tmp_path):
    with pytest.raises(ValueError):
        export_tenant(s3, bucket, "public", tmp_path / "out")


def test_usage_from_listing_per_tenant(s3, bucket):
    """Current and noncurrent objects and bytes, delete markers and open uploads per tenant;
    look-alike ids are separate rows; one tenant alone gives the same row."""
    stored = seed(s3, bucket, keys=3, versions=2, marked=1, uploads=2)
    s3.put_object(Bucket=bucket, Key="public/logo.png", Body=b"logo")
    usage = usage_from_listing(s3, bucket)
    assert set(usage) == set(LOOK_ALIKES) | {""}
    acme = usage["acme"]
    current = stored["acme"].current
    assert acme.current_objects == len(current) and acme.current_bytes == sum(map(len, current.values()))
    assert acme.current_objects + acme.noncurrent_versions == len(stored["acme"].versions)
    assert acme.current_bytes + acme.noncurrent_bytes == stored["acme"].bytes
    assert acme.delete_markers == 1 and acme.open_uploads == 2
    assert usage[""].current_objects == 1
    assert usage_from_listing(s3, bucket, "acme") == {"acme": acme}


@pytest.fixture
def log_bucket(s3):
    s3.create_bucket(Bucket="tenants-logs")
    return "tenants-logs"


def test_usage_from_inventory_equals_usage_from_listing(s3, bucket, log_bucket):
    """The inventory path (newest manifest, MD5-checked CSV, URL-encoded keys) gives the same
    figures per tenant as the listing path, keys with spaces included."""
    seed(s3, bucket)
    s3.put_object(Bucket=bucket, Key="acme/invoices/2026/01/31/with space+plus.pdf", Body=b"12345")
    url = write_inventory(s3, bucket, log_bucket)
    from_inventory = usage_from_inventory(s3, url, data_bucket=bucket)
    assert from_inventory.tenants == usage_from_listing(s3, bucket)
    assert from_inventory.manifest.endswith("2026-12-05T01-00Z/manifest.json")
    one = usage_from_inventory(s3, url, "acmecorp", data_bucket=bucket)
    assert list(one.tenants) == ["acmecorp"]


def test_inventory_file_not_matching_its_manifest_md5_is_refused(s3, bucket, log_bucket):
    seed(s3, bucket, ["acme"])
    with pytest.raises(InventoryError, match="MD5"):
        usage_from_inventory(s3, write_inventory(s3, bucket, log_bucket, corrupt=True))


def test_parquet_inventory_without_pyarrow_says_what_to_do(s3, bucket, log_bucket, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    seed(s3, bucket, ["acme"])
    with pytest.raises(InventoryError, match="pyarrow"):
        usage_from_inventory(s3, write_inventory(s3, bucket, log_bucket, file_format="Parquet"))


def test_parquet_inventory_equals_the_listing(s3, bucket, log_bucket):
    """With pyarrow installed, a Parquet report (snake_case columns, plain keys) gives the
    listing's figures. Skipped without pyarrow, which is optional (the test above covers that
    case's message)."""
    pytest.importorskip("pyarrow")
    seed(s3, bucket)
    url = write_inventory(s3, bucket, log_bucket, file_format="Parquet", parquet_rows=True)
    assert usage_from_inventory(s3, url, data_bucket=bucket).tenants == usage_from_listing(s3, bucket)


def test_no_inventory_yet_is_one_clear_error(s3, log_bucket):
    with pytest.raises(InventoryError, match="no inventory manifest"):
        usage_from_inventory(s3, f"s3://{log_bucket}/inventory/")
