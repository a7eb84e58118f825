"""Usage per tenant from an S3 Inventory report: billions of objects without listing them.

S3 writes the report daily into the destination the stack configures (the log bucket, under
``inventory/``): ``<prefix>/<source bucket>/<configuration id>/<YYYY-MM-DDTHH-MMZ>/manifest.json``
names the data files (``fileFormat`` CSV, ORC or Parquet; ``fileSchema`` their columns) with the
MD5 of each. This module reads the newest manifest under a given ``s3://`` URL (or the manifest
itself), checks each data file's MD5 against the manifest, and adds up the rows by tenant:

* CSV (gzip): no header, columns as ``fileSchema`` names them; S3 URL-encodes the key column.
* Parquet: read with ``pyarrow`` when it is installed; without it the report is refused with a
  message saying so (configure CSV, or ``pip install pyarrow``).
* ORC: not read (the stack never configures it).

Open multipart uploads are not in an inventory; they come from ``ListMultipartUploads``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional
from urllib.parse import unquote_plus, urlsplit

from .listing import default_policy, upload_pages
from .scope import TenantScope
from .usage import TenantUsage, tenant_of

MANIFEST_NAME = "manifest.json"
CSV_COLUMNS = {"Key": "key", "VersionId": "version_id", "IsLatest": "is_latest",
               "IsDeleteMarker": "is_delete_marker", "Size": "size"}
PARQUET_COLUMNS = {"key": "key", "version_id": "version_id", "is_latest": "is_latest",
                   "is_delete_marker": "is_delete_marker", "size": "size"}


class InventoryError(ValueError):
    """The inventory cannot be read (no manifest, a checksum mismatch, a format we cannot read)."""


@dataclass
class InventoryUsage:
    source_bucket: str
    manifest: str
    created: Optional[str]
    file_format: str
    tenants: dict[str, TenantUsage] = field(default_factory=dict)
    rows: int = 0

    def summary(self) -> dict[str, Any]:
        return {"source": "inventory", "source_bucket": self.source_bucket, "manifest": self.manifest,
                "inventory_created": self.created, "file_format": self.file_format, "rows": self.rows,
                "tenants": [usage.summary() for usage in self.tenants.values()]}


def split_s3_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise InventoryError(f"{url!r} is not an s3://BUCKET/PREFIX URL")
    return parts.netloc, parts.path.lstrip("/")


def latest_manifest(client: Any, bucket: str, prefix: str) -> str:
    """The key of the newest ``manifest.json`` under ``prefix`` (date folders sort by name)."""
    if prefix.endswith(MANIFEST_NAME):
        return prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    policy = default_policy()
    newest: Optional[str] = None
    token: dict[str, str] = {}
    while True:
        page = policy.call(lambda: client.list_objects_v2(Bucket=bucket, Prefix=prefix, **token))
        for entry in page.get("Contents", []):
            key = entry["Key"]
            if key.endswith("/" + MANIFEST_NAME) and (newest is None or key > newest):
                newest = key
        if not page.get("IsTruncated"):
            break
        token = {"ContinuationToken": page["NextContinuationToken"]}
    if newest is None:
        raise InventoryError(f"no inventory manifest.json under s3://{bucket}/{prefix} (S3 writes the first "
                             "report within 48 hours of the configuration)")
    return newest


def _get(client: Any, bucket: str, key: str) -> bytes:
    policy = default_policy()
    return policy.call(lambda: client.get_object(Bucket=bucket, Key=key)["Body"].read())


def usage_from_inventory(client: Any, url: str, tenant: Optional[str] = None, *,
                         data_bucket: Optional[str] = None) -> InventoryUsage:
    """Usage per tenant (only ``tenant`` when given) from the newest inventory under ``url``."""
    scope = TenantScope(tenant) if tenant is not None else None
    bucket, prefix = split_s3_url(url)
    manifest_key = latest_manifest(client, bucket, prefix)
    try:
        manifest = json.loads(_get(client, bucket, manifest_key))
    except ValueError as error:
        raise InventoryError(f"s3://{bucket}/{manifest_key} is not JSON: {error}") from None
    file_format = str(manifest.get("fileFormat", "")).upper()
    created = manifest.get("creationTimestamp")
    result = InventoryUsage(manifest.get("sourceBucket", ""), f"s3://{bucket}/{manifest_key}",
                            str(created) if created is not None else None, file_format)
    if data_bucket and result.source_bucket and result.source_bucket != data_bucket:
        raise InventoryError(f"the inventory at {url} describes bucket {result.source_bucket!r}, not {data_bucket!r}")
    if scope:
        result.tenants[scope.tenant] = TenantUsage(scope.tenant)
    rows = _rows_parquet if file_format == "PARQUET" else _rows_csv if file_format == "CSV" else None
    if rows is None:
        raise InventoryError(f"inventory format {file_format or '(none)'} is not read here; configure CSV or Parquet")
    for entry in manifest.get("files", []):
        data = _get(client, bucket, entry["key"])
        expected = entry.get("MD5checksum")
        if expected and hashlib.md5(data).hexdigest() != expected.lower():  # noqa: S324 - S3's own checksum
            raise InventoryError(f"inventory file s3://{bucket}/{entry['key']} does not match its MD5 in the manifest")
        for key, size, is_latest, is_marker in rows(manifest, data):
            result.rows += 1
            owner = tenant_of(key)
            if scope is not None and owner != scope.tenant:
                continue
            result.tenants.setdefault(owner, TenantUsage(owner)).add_version(size, is_latest, is_marker)
    if data_bucket:
        for page in upload_pages(client, data_bucket, scope.prefix if scope else ""):
            for upload in page:
                owner = tenant_of(upload.key)
                if scope is None or owner == scope.tenant:
                    result.tenants.setdefault(owner, TenantUsage(owner)).open_uploads += 1
    result.tenants = dict(sorted(result.tenants.items()))
    return result


def _truth(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _rows_csv(manifest: dict, data: bytes) -> Iterator[tuple[str, int, bool, bool]]:
    columns = [name.strip() for name in str(manifest.get("fileSchema", "")).split(",")]
    if "Key" not in columns:
        raise InventoryError(f"CSV inventory schema {manifest.get('fileSchema')!r} has no Key column")
    index = {name: columns.index(name) for name in CSV_COLUMNS if name in columns}
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(data)), encoding="utf-8", newline="")
    for row in csv.reader(text):
        if not row:
            continue
        key = unquote_plus(row[index["Key"]])
        size = int(row[index["Size"]] or 0) if "Size" in index else 0
        is_latest = _truth(row[index["IsLatest"]]) if "IsLatest" in index else True
        is_marker = _truth(row[index["IsDeleteMarker"]]) if "IsDeleteMarker" in index else False
        yield key, size, is_latest, is_marker


def _rows_parquet(manifest: dict, data: bytes) -> Iterator[tuple[str, int, bool, bool]]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise InventoryError("this inventory is Parquet and pyarrow is not installed: `pip install pyarrow`, "
                             "or configure the inventory as CSV (config inventoryFormat: CSV)") from None
    table = parquet.read_table(io.BytesIO(data))
    names = set(table.column_names)
    if "key" not in names:
        raise InventoryError("Parquet inventory has no key column")
    columns = {name: table.column(name).to_pylist() for name in PARQUET_COLUMNS if name in names}
    for i, key in enumerate(columns["key"]):
        size = int(columns["size"][i] or 0) if "size" in columns else 0
        is_latest = _truth(columns["is_latest"][i]) if "is_latest" in columns else True
        is_marker = _truth(columns["is_delete_marker"][i]) if "is_delete_marker" in columns else False
        yield key, size, is_latest, is_marker
