"""Unfinished multipart uploads: list them and abort them, by key, upload id or prefix.

A killed process (``kill -9``, a lost laptop), an interrupt whose abort could not be confirmed,
or a transient failure that outlasted the retry budget leaves an open multipart upload. Its
parts cost storage until the bucket's lifecycle rule removes them, and no other listing shows
them. This module is what ``securestore uploads list|abort`` runs. It also reports which
uploads have a local journal (``--resume`` can continue them) and forgets that journal when
the upload is aborted, so that a later ``--resume`` does not look for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import error_code
from .resume import journals_in
from .retry import RetryPolicy


@dataclass(frozen=True)
class OpenUpload:
    bucket: str
    key: str
    upload_id: str
    initiated: Optional[str]
    journal: Optional[str]
    """A local journal of this upload (``upload --resume`` continues it), if there is one."""

    def summary(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "upload_id": self.upload_id,
                "initiated": self.initiated, "journal": self.journal}


def list_open_uploads(client: Any, bucket: str, prefix: str = "", *,
                      policy: Optional[RetryPolicy] = None,
                      journal_dir: Optional[Path] = None) -> list[OpenUpload]:
    """Every open multipart upload in ``bucket`` whose key starts with ``prefix``."""
    policy = policy or RetryPolicy(None, 0.25, 8.0, 60.0)
    journals = journals_in(journal_dir)
    found: list[OpenUpload] = []
    markers: dict[str, str] = {}
    while True:
        page = policy.call(lambda: client.list_multipart_uploads(Bucket=bucket, Prefix=prefix, **markers))
        for upload in page.get("Uploads", []):
            initiated = upload.get("Initiated")
            journal = journals.get(upload["UploadId"])
            found.append(OpenUpload(bucket, upload["Key"], upload["UploadId"],
                                    initiated.isoformat() if hasattr(initiated, "isoformat") else initiated,
                                    str(journal[0]) if journal else None))
        if not page.get("IsTruncated"):
            return found
        markers = {"KeyMarker": page.get("NextKeyMarker", ""),
                   "UploadIdMarker": page.get("NextUploadIdMarker", "")}


def abort_open_upload(client: Any, upload: OpenUpload, *, policy: Optional[RetryPolicy] = None) -> str:
    """Abort one upload and forget its local journal; ``"aborted"`` or ``"already gone"``."""
    policy = policy or RetryPolicy(None, 0.25, 8.0, 60.0)
    outcome = "aborted"
    try:
        policy.call(lambda: client.abort_multipart_upload(Bucket=upload.bucket, Key=upload.key,
                                                          UploadId=upload.upload_id))
    except Exception as error:  # noqa: BLE001 - only "gone already" is not a failure
        if error_code(error) != "NoSuchUpload":
            raise
        outcome = "already gone"
    if upload.journal:
        from .resume import UploadJournal

        UploadJournal(upload.journal).discard()
    return outcome
