"""Export a tenant: every current object under ``TENANT/`` into a directory mirroring the keys.

This is the recursive download engine (``transfer.batch`` plans and runs it, each object is
fetched by ``transfer.download.download_file``: parallel ranged GETs pinned to the version
seen first, the stored checksum verified, an atomic rename into place). Here only the listing
is the tenant's: every listed key is checked against the tenant again, and the report counts
files written, verified and not verifiable (objects that carry no checksum), so that "the
tenant got its data back" is something the report states rather than assumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Union

from securestore.transfer.retry import RetryPolicy

from .listing import default_policy
from .scope import TenantScope, foreign_key_error

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class ExportReport:
    tenant: str
    bucket: str
    directory: str
    files: int = 0
    bytes: int = 0
    verified: int = 0
    not_verified: list[str] = field(default_factory=list)
    """Keys written whose object has no stored checksum (nothing to compare against)."""
    failed: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Keys with no safe local path (``..`` segments, backslashes) or outside the tenant."""
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failed and not self.skipped

    def summary(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "bucket": self.bucket, "directory": self.directory,
                "files": self.files, "bytes": self.bytes, "verified": self.verified,
                "not_verified": self.not_verified, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "complete": self.complete}


def current_objects(client: Any, bucket: str, scope: TenantScope, skipped: list[str], *,
                    policy: Optional[RetryPolicy] = None) -> Iterator[dict]:
    """``ListObjectsV2`` entries under the tenant's prefix (current versions only)."""
    policy = policy or default_policy()
    token: dict[str, str] = {}
    while True:
        page = policy.call(lambda: client.list_objects_v2(Bucket=bucket, Prefix=scope.prefix, **token))
        for entry in page.get("Contents", []):
            if scope.owns(entry["Key"]):
                yield entry
            else:
                skipped.append(foreign_key_error(entry["Key"], scope.tenant))
        if not page.get("IsTruncated"):
            return
        token = {"ContinuationToken": page["NextContinuationToken"]}


def export_tenant(client: Any, bucket: str, tenant: str, directory: PathLike, *, config: Any = None,
                  progress_advance: Any = None) -> ExportReport:
    """Download every current object of ``tenant`` into ``directory``/<key after TENANT/>.

    ``ValueError`` for a tenant id the key builder refuses or a ``directory`` that is a file."""
    from securestore.transfer.batch import plan_directory_download, run_batch
    from securestore.transfer.config import TransferConfig
    from securestore.transfer.download import download_file

    scope = TenantScope(tenant)
    destination = os.fspath(directory)
    if os.path.exists(destination) and not os.path.isdir(destination):
        raise ValueError(f"{destination!r} is a file; export needs a directory")
    os.makedirs(destination, exist_ok=True)
    config = config or TransferConfig()
    report = ExportReport(tenant, bucket, destination)
    listing = list(current_objects(client, bucket, scope, report.skipped))
    items, problems = plan_directory_download(listing, scope.prefix, destination, [])
    report.skipped += problems

    def transfer(item, item_config, progress):
        os.makedirs(os.path.dirname(item.local) or ".", exist_ok=True)
        return download_file(client, bucket, item.key, item.local, config=item_config,
                             progress=progress).summary()

    outcome = run_batch(items, transfer, config=config, small_below=config.multipart_threshold,
                        on_done=lambda item, summary, error: None, advance=progress_advance)
    report.files = len(outcome.done)
    report.bytes = outcome.bytes
    report.verified = sum(1 for done in outcome.done if done.get("verified"))
    report.not_verified = sorted(done["key"] for done in outcome.done if not done.get("verified"))
    report.failed = outcome.failed
    report.seconds = outcome.seconds
    return report
