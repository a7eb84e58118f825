"""How much each tenant stores, from a listing: objects and bytes, current and noncurrent,
delete markers and open multipart uploads.

One ``ListObjectVersions`` walk (1,000 entries a request) plus one ``ListMultipartUploads``
walk: fine for a bucket of some millions of versions, too slow and too costly for billions.
Those use the daily S3 Inventory report instead (``inventory.py``), which gives the same
figures from files S3 writes itself.

Keys are grouped by their first segment; keys that no tenant id can own (``public/``,
``readme.txt`` at the root) are counted under ``""`` in a bucket-wide report, so the totals
add up to the bucket.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Optional

from securestore.keys import TENANT_ID_PATTERN, RESERVED_TENANT_IDS

from .listing import DELETE_MARKER, default_policy, upload_pages, version_pages
from .scope import TenantScope

OTHER = ""
"""The group of keys outside every tenant prefix (``public/``, root files)."""


@dataclass
class TenantUsage:
    tenant: str
    current_objects: int = 0
    current_bytes: int = 0
    noncurrent_versions: int = 0
    noncurrent_bytes: int = 0
    delete_markers: int = 0
    open_uploads: int = 0

    def add_version(self, size: int, is_latest: bool, is_delete_marker: bool) -> None:
        if is_delete_marker:
            self.delete_markers += 1
        elif is_latest:
            self.current_objects += 1
            self.current_bytes += size
        else:
            self.noncurrent_versions += 1
            self.noncurrent_bytes += size

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_bytes"] = self.current_bytes + self.noncurrent_bytes
        return data


def tenant_of(key: str) -> str:
    """The tenant a key belongs to (its first segment, when that is a valid tenant id)."""
    first, slash, _rest = key.partition("/")
    if slash and TENANT_ID_PATTERN.fullmatch(first) and first.lower() not in RESERVED_TENANT_IDS:
        return first
    return OTHER


def usage_from_listing(client: Any, bucket: str, tenant: Optional[str] = None, *,
                       page_size: int = 1000) -> dict[str, TenantUsage]:
    """Usage per tenant (only ``tenant`` when given) from listing the bucket."""
    scope = TenantScope(tenant) if tenant is not None else None
    prefix = scope.prefix if scope else ""
    policy = default_policy()
    totals: dict[str, TenantUsage] = {}
    if scope:
        totals[scope.tenant] = TenantUsage(scope.tenant)

    def group(key: str) -> Optional[TenantUsage]:
        owner = tenant_of(key)
        if scope is not None and owner != scope.tenant:
            return None
        return totals.setdefault(owner, TenantUsage(owner))

    for page, _marker in version_pages(client, bucket, prefix, page_size=page_size, policy=policy):
        for entry in page:
            usage = group(entry.key)
            if usage is not None:
                usage.add_version(entry.size, entry.is_latest, entry.kind == DELETE_MARKER)
    for page in upload_pages(client, bucket, prefix, policy=policy):
        for upload in page:
            usage = group(upload.key)
            if usage is not None:
                usage.open_uploads += 1
    return dict(sorted(totals.items()))


def summaries(usages: Iterable[TenantUsage]) -> list[dict[str, Any]]:
    return [usage.summary() for usage in usages]
