"""Multipart uploads that a browser sends and a backend controls (create, sign parts, complete).

A file too large for one PUT goes up in parts. The browser cannot hold AWS credentials, so the
backend does every step that needs them and the browser only sends bytes:

1. :meth:`BrowserMultipartUploads.start` builds the tenant key with :mod:`securestore.keys`,
   creates the upload with SSE-KMS under *our* key (so the bucket policy that denies other keys
   accepts it), and pre-signs one ``UploadPart`` URL per part. Each URL also signs the part's
   ``Content-Length``: the browser sets that header from the slice it sends, and S3 refuses any
   other length, so the object can never grow past the size the backend approved (the
   counterpart of a POST policy's ``content-length-range``). If signing fails once the upload
   exists, the upload is aborted before the error is raised.
2. The browser PUTs each slice and reads the ``ETag`` response header (the bucket's CORS rules
   must expose it).
3. :meth:`~BrowserMultipartUploads.complete` (or :meth:`~BrowserMultipartUploads.abort` on
   failure) is called with what the browser reports. The key must belong to the signed-in
   tenant; S3 itself binds the upload id to its key, so a tenant cannot finish or abort another
   tenant's upload by sending its id. Nothing is kept between the calls, so any backend instance
   can answer; abandoned uploads are removed by the bucket's abort-incomplete lifecycle rule.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from typing import Any, Callable, Collection, Iterable, Mapping, Optional

from securestore._sigv4 import S3Endpoint, SigV4Signer, regional_endpoint
from securestore.keys import ensure_within_tenant, build_tenant_key
from securestore.s3presign import SSE_KMS, CredentialSource, effective_expiry, validate_upload_content_type
from securestore.transfer.config import DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, GiB, plan_parts

#: Parts of a large file take a while; their URLs live for an hour unless asked otherwise.
DEFAULT_PART_EXPIRES_SECONDS = 60 * 60
#: What a browser may upload in parts unless the backend says otherwise.
DEFAULT_MAX_BYTES = 5 * GiB
_ETAG = re.compile(r'"?[0-9A-Za-z-]{1,64}"?')

Clock = Callable[[], _dt.datetime]


@dataclasses.dataclass(frozen=True)
class PresignedPart:
    """PUT bytes ``[offset, offset + length)`` of the file to ``url``; no extra headers."""

    part_number: int
    url: str
    offset: int
    length: int

    def as_dict(self) -> dict[str, Any]:
        return {"part_number": self.part_number, "url": self.url, "offset": self.offset, "length": self.length}


@dataclasses.dataclass(frozen=True)
class BrowserMultipartUpload:
    """A created upload: its key, id, and one pre-signed URL per part."""

    key: str
    upload_id: str
    size: int
    part_size: int
    parts: tuple[PresignedPart, ...]
    expires_at: _dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "upload_id": self.upload_id, "size": self.size, "part_size": self.part_size,
                "parts": [p.as_dict() for p in self.parts], "expires_at": self.expires_at.isoformat()}


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def validate_completed_parts(parts: Any) -> list[dict[str, Any]]:
    """``[{"part_number": n, "etag": "..."}...]`` with numbers ascending, as S3 needs them."""
    if not isinstance(parts, list) or not parts:
        raise ValueError("parts must be a non-empty list of {part_number, etag}")
    completed = []
    for index, part in enumerate(parts):
        if not isinstance(part, Mapping) or set(part) != {"part_number", "etag"}:
            raise ValueError(f"parts[{index}] must have exactly the fields part_number and etag")
        number, etag = part["part_number"], part["etag"]
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
            raise ValueError(f"parts[{index}].part_number must be an integer from 1 to {MAX_PARTS}, got {number!r}")
        if not isinstance(etag, str) or not _ETAG.fullmatch(etag):
            raise ValueError(f"parts[{index}].etag {etag!r} is not an S3 ETag")
        if completed and number <= completed[-1]["PartNumber"]:
            raise ValueError(f"parts[{index}].part_number {number} is not above the one before it")
        completed.append({"PartNumber": number, "ETag": etag})
    return completed


class BrowserMultipartUploads:
    """Creates, signs, completes and aborts browser multipart uploads for one bucket and KMS key.

    ``s3_client`` is a boto3 S3 client with the backend's credentials (it sends the create,
    complete and abort calls); ``credentials`` sign the part URLs, as for
    :class:`securestore.s3presign.S3Presigner`.
    """

    def __init__(
        self,
        *,
        bucket: str,
        region_name: str,
        kms_key_id: str,
        credentials: Any,
        s3_client: Any,
        endpoint_url: Optional[str] = None,
        allowed_modules: Optional[Collection[str]] = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Optional[Clock] = None,
    ) -> None:
        if isinstance(part_size, bool) or not isinstance(part_size, int) or part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be an integer of at least {MIN_PART_SIZE} bytes (S3's minimum), got {part_size!r}")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        plan_parts(max_bytes, part_size)  # refuses a maximum that no part plan can carry
        self.bucket = bucket
        self.region_name = region_name
        self.kms_key_id = kms_key_id
        self.allowed_modules = allowed_modules
        self.part_size = part_size
        self.max_bytes = max_bytes
        self.endpoint: S3Endpoint = regional_endpoint(bucket, region_name, endpoint_url)
        self._s3 = s3_client
        self._credentials = CredentialSource(credentials)
        self._signer = SigV4Signer(region_name)
        self._clock = clock or _utc_now

    def start(
        self,
        tenant_id: str,
        module: str,
        filename: str,
        *,
        content_type: str,
        size: int,
        expires_in: int = DEFAULT_PART_EXPIRES_SECONDS,
    ) -> BrowserMultipartUpload:
        """Create the upload for ``tenant_id/module/yyyy/mm/dd/filename`` and sign every part."""
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= self.max_bytes:
            raise ValueError(f"size must be an integer from 1 to {self.max_bytes} bytes, got {size!r}")
        content_type = validate_upload_content_type(content_type)
        now = self._clock()
        tenant_key = build_tenant_key(tenant_id, module, filename, now, allowed_modules=self.allowed_modules)
        plan = plan_parts(size, self.part_size)
        credentials = self._credentials.current()
        lifetime = effective_expiry(expires_in, credentials, now)
        created = self._s3.create_multipart_upload(
            Bucket=self.bucket, Key=tenant_key.key, ContentType=content_type,
            ServerSideEncryption=SSE_KMS, SSEKMSKeyId=self.kms_key_id,
        )
        upload_id = created["UploadId"]
        try:
            parts = tuple(self._sign_part(credentials, tenant_key.key, upload_id, number, plan, lifetime, now)
                          for number in range(1, plan.count + 1))
        except BaseException:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=tenant_key.key, UploadId=upload_id)
            raise
        return BrowserMultipartUpload(tenant_key.key, upload_id, size, plan.part_size, parts,
                                      now + _dt.timedelta(seconds=lifetime))

    def _sign_part(self, credentials, key: str, upload_id: str, number: int, plan, lifetime: int,
                   now: _dt.datetime) -> PresignedPart:
        offset = plan.offset(number)
        length = min(plan.part_size, plan.file_size - offset)
        url = self._signer.presign_url(
            credentials, "PUT", self.endpoint, key, expires_in=lifetime, now=now,
            headers={"Content-Length": str(length)},
            query=[("partNumber", str(number)), ("uploadId", upload_id)],
        )
        return PresignedPart(number, url, offset, length)

    def complete(self, tenant_id: str, key: str, upload_id: str, parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Finish ``tenant_id``'s upload from the part numbers and ETags the browser reports."""
        tenant_key = ensure_within_tenant(key, tenant_id)
        completed = validate_completed_parts(list(parts) if not isinstance(parts, list) else parts)
        result = self._s3.complete_multipart_upload(
            Bucket=self.bucket, Key=tenant_key.key, UploadId=_upload_id(upload_id),
            MultipartUpload={"Parts": completed},
        )
        return {"key": tenant_key.key, "etag": result.get("ETag"), "version_id": result.get("VersionId")}

    def abort(self, tenant_id: str, key: str, upload_id: str) -> None:
        """Abort ``tenant_id``'s upload (the browser gave up, or a part was refused)."""
        tenant_key = ensure_within_tenant(key, tenant_id)
        self._s3.abort_multipart_upload(Bucket=self.bucket, Key=tenant_key.key, UploadId=_upload_id(upload_id))


def _upload_id(upload_id: Any) -> str:
    if not isinstance(upload_id, str) or not 1 <= len(upload_id) <= 1024 or not upload_id.isprintable():
        raise ValueError("upload_id must be the id S3 returned when the upload was created")
    return upload_id
