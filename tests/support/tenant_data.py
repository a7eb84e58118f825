"""A versioned bucket holding several tenants, look-alike ids among them, for tenant lifecycle
tests and ``bench/tenant_erase.py``: versions, delete markers and open multipart uploads.

``seed`` returns what it stored, per tenant, so a test compares the bucket afterwards with
exact sets instead of counts.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable

LOOK_ALIKES = ("acme", "acmecorp", "acme-eu", "ACME")
"""``acme`` is erased; the others start with the same letters (or differ only in case)."""
DAY = _dt.date(2026, 1, 31)


@dataclass
class Stored:
    versions: set = field(default_factory=set)  # (key, version id)
    markers: set = field(default_factory=set)
    uploads: set = field(default_factory=set)  # (key, upload id)
    bytes: int = 0
    current: dict = field(default_factory=dict)  # key -> body of the current version

    @property
    def refs(self) -> set:
        return self.versions | self.markers


def key(tenant: str, index: int, module: str = "invoices") -> str:
    from securestore.keys import build_key

    return build_key(tenant, module, f"doc-{index:05d}.pdf", DAY)


def seed(client: Any, bucket: str, tenants: Iterable[str] = LOOK_ALIKES, *, keys: int = 4,
         versions: int = 3, marked: int = 1, uploads: int = 1, irregular: bool = True) -> dict[str, Stored]:
    """Per tenant: ``keys`` keys with ``versions`` versions each, the first ``marked`` keys then
    deleted (a delete marker on top), ``uploads`` open multipart uploads with one part, and
    (``irregular``) one key the key builder would not make, ``<tenant>/notes.txt``."""
    stored: dict[str, Stored] = {}
    for tenant in tenants:
        mine = stored[tenant] = Stored()
        names = [key(tenant, i) for i in range(keys)] + ([f"{tenant}/notes.txt"] if irregular else [])
        for index, name in enumerate(names):
            for v in range(versions):
                body = f"{name} v{v}".encode() * (1 + index % 3)
                answer = client.put_object(Bucket=bucket, Key=name, Body=body)
                mine.versions.add((name, answer["VersionId"]))
                mine.bytes += len(body)
                mine.current[name] = body
            if index < marked:
                answer = client.delete_object(Bucket=bucket, Key=name)
                mine.markers.add((name, answer["VersionId"]))
                del mine.current[name]
        for u in range(uploads):
            name = key(tenant, 900 + u, "drafts")
            upload_id = client.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
            client.upload_part(Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=1, Body=b"p" * 1024)
            mine.uploads.add((name, upload_id))
    return stored


def bulk_versions(client: Any, bucket: str, tenant: str, count: int, *, threads: int = 8) -> set:
    """``count`` small versions under ``tenant`` (for paging and the benchmark), put in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    def put(i: int):
        name = key(tenant, i % 500)
        return name, client.put_object(Bucket=bucket, Key=name, Body=b"x" * 16)["VersionId"]

    with ThreadPoolExecutor(threads) as pool:
        return set(pool.map(put, range(count)))


def listing(client: Any, bucket: str, prefix: str = "") -> tuple[set, set, set]:
    """(versions, delete markers, uploads) under ``prefix``, straight from S3."""
    versions, markers, uploads = set(), set(), set()
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions |= {(v["Key"], v["VersionId"]) for v in page.get("Versions", [])}
        markers |= {(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])}
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        uploads |= {(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])}
    return versions, markers, uploads


def write_inventory(s3, bucket, log_bucket, *, corrupt=False, file_format="CSV", parquet_rows=False):
    """Write what S3 Inventory writes for ``bucket`` into ``log_bucket``: two dated manifest.json
    (the newer one is read) naming one gzip CSV data file with its MD5, keys URL-encoded;
    ``corrupt`` appends a byte to the data file after its MD5 was taken; ``parquet_rows`` writes
    a real Parquet data file (needs pyarrow). Returns the URL the stack output
    ``inventoryDestination`` would hold."""
    import csv
    import gzip
    import hashlib
    import io
    import json
    from urllib.parse import quote_plus

    rows = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            rows.append([bucket, quote_plus(v["Key"]), v["VersionId"], str(v["IsLatest"]).lower(), "false", str(v["Size"])])
        for m in page.get("DeleteMarkers", []):
            rows.append([bucket, quote_plus(m["Key"]), m["VersionId"], str(m["IsLatest"]).lower(), "true", ""])
    base = f"inventory/{bucket}/tenant-usage"
    if file_format == "Parquet" and parquet_rows:
        # S3's Parquet inventory: snake_case columns, keys not URL-encoded, typed values
        import pyarrow as pa
        import pyarrow.parquet as pq
        from urllib.parse import unquote_plus

        table = pa.table({"bucket": [r[0] for r in rows], "key": [unquote_plus(r[1]) for r in rows],
                          "version_id": [r[2] for r in rows], "is_latest": [r[3] == "true" for r in rows],
                          "is_delete_marker": [r[4] == "true" for r in rows],
                          "size": [int(r[5]) if r[5] else None for r in rows]})
        sink = io.BytesIO()
        pq.write_table(table, sink)
        data, data_key = sink.getvalue(), f"{base}/data/0001.parquet"
    else:
        text = io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL).writerows(rows)
        data, data_key = gzip.compress(text.getvalue().encode()), f"{base}/data/0001.csv.gz"
    s3.put_object(Bucket=log_bucket, Key=data_key, Body=data + (b"x" if corrupt else b""))
    for day in ("2026-12-04T01-00Z", "2026-12-05T01-00Z"):
        manifest = {"sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{log_bucket}",
                    "version": "2016-11-30", "creationTimestamp": "1764896400000", "fileFormat": file_format,
                    "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size",
                    "files": [{"key": data_key, "size": len(data), "MD5checksum": hashlib.md5(data).hexdigest()}]}
        s3.put_object(Bucket=log_bucket, Key=f"{base}/{day}/manifest.json", Body=json.dumps(manifest).encode())
    return f"s3://{log_bucket}/inventory/{bucket}/tenant-usage/"


class CallLog:
    """Wraps an S3 client: records every call's name and parameters, optionally changes them.

    ``faults[name]`` is called with (call number, params, real call) and returns the answer:
    the way a test throttles, fails keys, or kills the process after the N-th request."""

    def __init__(self, client: Any, faults: dict | None = None) -> None:
        import threading

        self._client = client
        self.calls: list[tuple[str, dict]] = []
        self.faults = dict(faults or {})
        self._lock = threading.Lock()

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)

    def __getattr__(self, name: str):
        real = getattr(self._client, name)
        if not callable(real) or name.startswith("_") or name in ("meta", "exceptions", "get_paginator"):
            return real

        def call(**params):
            with self._lock:
                self.calls.append((name, params))
                number = self.count(name)
            fault = self.faults.get(name)
            if fault is not None:
                return fault(number, params, lambda: real(**params))
            return real(**params)

        return call
