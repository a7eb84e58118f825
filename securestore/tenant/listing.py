"""Everything stored under a prefix, page by page: versions, delete markers, open uploads.

Each request is retried on throttling and server errors (``SlowDown``, 503, dropped
connections) with the transfer engine's policy; anything else (access denied, no such
bucket) is raised at once. Pages are yielded as they arrive, so a tenant with millions of
versions is walked in constant memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

from securestore.transfer.retry import RetryPolicy

LIST_PAGE = 1000  # S3's own maximum per ListObjectVersions / ListMultipartUploads page

VERSION = "version"
DELETE_MARKER = "delete-marker"


def default_policy() -> RetryPolicy:
    """Retry a throttled or failed request for up to two minutes, waits capped at 8 s."""
    return RetryPolicy(None, 0.25, 8.0, 120.0)


@dataclass(frozen=True)
class StoredVersion:
    """One object version or delete marker."""

    key: str
    version_id: str
    kind: str  # VERSION or DELETE_MARKER
    size: int
    is_latest: bool

    @property
    def ref(self) -> tuple[str, str]:
        return (self.key, self.version_id)


@dataclass(frozen=True)
class OpenUpload:
    key: str
    upload_id: str


def version_pages(client: Any, bucket: str, prefix: str, *, page_size: int = LIST_PAGE,
                  policy: Optional[RetryPolicy] = None
                  ) -> Iterator[tuple[list[StoredVersion], Optional[tuple[str, str]]]]:
    """Pages of every version and delete marker whose key starts with ``prefix``, each with the
    (key, version id) the next page continues after (``None`` on the last page).

    A caller that deletes while it lists must keep that marker version until the next page is
    fetched: S3 continues after a deleted marker, but emulators (moto 5) return an empty page.
    """
    policy = policy or default_policy()
    markers: dict[str, str] = {}
    while True:
        page = policy.call(lambda: client.list_object_versions(
            Bucket=bucket, Prefix=prefix, MaxKeys=page_size, **markers))
        entries = [StoredVersion(v["Key"], v.get("VersionId") or "null", VERSION, int(v.get("Size", 0)),
                                 bool(v.get("IsLatest"))) for v in page.get("Versions", [])]
        entries += [StoredVersion(m["Key"], m.get("VersionId") or "null", DELETE_MARKER, 0,
                                  bool(m.get("IsLatest"))) for m in page.get("DeleteMarkers", [])]
        if not page.get("IsTruncated"):
            yield entries, None
            return
        markers = {"KeyMarker": page.get("NextKeyMarker", "")}
        if page.get("NextVersionIdMarker"):
            markers["VersionIdMarker"] = page["NextVersionIdMarker"]
        yield entries, (markers["KeyMarker"], markers.get("VersionIdMarker", ""))


def upload_pages(client: Any, bucket: str, prefix: str, *, page_size: int = LIST_PAGE,
                 policy: Optional[RetryPolicy] = None) -> Iterator[list[OpenUpload]]:
    """Pages of every open multipart upload whose key starts with ``prefix``."""
    policy = policy or default_policy()
    markers: dict[str, str] = {}
    while True:
        page = policy.call(lambda: client.list_multipart_uploads(
            Bucket=bucket, Prefix=prefix, MaxUploads=page_size, **markers))
        yield [OpenUpload(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page.get("IsTruncated"):
            return
        markers = {"KeyMarker": page.get("NextKeyMarker", ""),
                   "UploadIdMarker": page.get("NextUploadIdMarker", "")}


def upload_bytes(client: Any, bucket: str, upload: OpenUpload, *,
                 policy: Optional[RetryPolicy] = None) -> int:
    """Bytes held by the parts of one open upload (they are billed until it is aborted)."""
    policy = policy or default_policy()
    total, marker = 0, 0
    while True:
        page = policy.call(lambda: client.list_parts(Bucket=bucket, Key=upload.key,
                                                     UploadId=upload.upload_id, PartNumberMarker=marker))
        total += sum(int(part.get("Size", 0)) for part in page.get("Parts", []))
        if not page.get("IsTruncated"):
            return total
        marker = int(page.get("NextPartNumberMarker") or 0)
