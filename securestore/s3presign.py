"""Pre-signed S3 uploads (PUT, browser POST) and downloads (GET) for one tenant's files.

Browsers talk to S3 directly; the backend only signs. What the signature pins down is the
security boundary, so:

* the caller never passes a raw key: uploads take ``tenant_id, module, filename`` and build the
  key with :mod:`securestore.keys`; downloads take a key (or ``TenantKey``) *and* the tenant,
  and refuse a key outside ``tenant_id/``;
* uploads sign SSE-KMS with *our* key id (``x-amz-server-side-encryption`` and
  ``...-aws-kms-key-id``), so the bucket policy that denies any other key accepts them; the
  signed ``Content-Type`` and these headers come back in ``PresignedRequest.headers``: the
  browser must send them exactly, or S3 refuses the signature. So each one must also be in the
  bucket's CORS ``AllowedHeaders``, which is why the bucket-key flag is not signed by default
  (the bucket's default encryption turns the bucket key on for objects that do not say);
* a PUT signs ``Content-Length`` (the caller states the size; S3 refuses any other body
  length), and POST policies fix the exact key, the content type and a ``content-length-range``;
* active content types (HTML, SVG, XML, JavaScript, CSS: :mod:`securestore.content_types`)
  are refused: a browser would run them on the file host that serves every tenant;
* expiry defaults to 15 minutes, anything above 7 days (SigV4's limit) is refused, and a URL is
  clamped, with an :class:`ExpiryClampedWarning`, to the expiry of temporary credentials: a
  pre-signed URL dies with the session that signed it, so promising more would be a lie;
* addresses are regional virtual-hosted (``<bucket>.s3.<region>.amazonaws.com``).

Signing uses :class:`securestore._sigv4.SigV4Signer` (byte-identical to botocore, much faster).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import re
import warnings
from typing import Any, Callable, Collection, Mapping, Optional, Union
from urllib.parse import quote

from securestore._sigv4 import S3Endpoint, SigningCredentials, SigV4Signer, regional_endpoint
from securestore.content_types import refuse_active
from securestore.keys import DateLike, TenantKey, build_tenant_key, ensure_within_tenant, validate_tenant_id
from securestore.kms_key import require_key_arn

DEFAULT_EXPIRES_SECONDS = 15 * 60
#: SigV4 pre-signed URLs cannot live longer than 7 days.
MAX_EXPIRES_SECONDS = 7 * 24 * 60 * 60
MIN_EXPIRES_SECONDS = 1
KB = 1024
MB = 1024 * KB
GB = 1024 * MB
#: A single PUT / POST upload is limited by S3 to 5 GiB.
MAX_SINGLE_UPLOAD_BYTES = 5 * GB
SSE_KMS = "aws:kms"

_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:; ?{_TOKEN}=(?:{_TOKEN}|\"[ !#-\[\]-~]*\"))*")
_MAX_CONTENT_TYPE_CHARS = 255
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_SHA256_DIGEST_BYTES = 32
_DISPOSITIONS = ("attachment", "inline")

Clock = Callable[[], _dt.datetime]


class ExpiryClampedWarning(UserWarning):
    """A requested expiry outlived the signing credentials and was shortened to their expiry."""


@dataclasses.dataclass(frozen=True)
class PresignedRequest:
    """A pre-signed PUT or GET: send ``method`` to ``url`` with exactly ``headers``."""

    method: str
    url: str
    headers: Mapping[str, str]
    key: str
    expires_at: _dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": dict(self.headers),
                "key": self.key, "expires_at": self.expires_at.isoformat()}


@dataclasses.dataclass(frozen=True)
class PresignedPost:
    """A browser form upload: POST multipart/form-data to ``url`` with ``fields`` then ``file``."""

    url: str
    fields: Mapping[str, str]
    key: str
    expires_at: _dt.datetime
    max_bytes: int
    content_type: str

    def as_dict(self) -> dict[str, Any]:
        return {"method": "POST", "url": self.url, "fields": dict(self.fields), "key": self.key,
                "expires_at": self.expires_at.isoformat(), "max_bytes": self.max_bytes,
                "content_type": self.content_type}


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def validate_content_type(content_type: str) -> str:
    """``type/subtype[; param=value]`` in printable ASCII, else ``ValueError``."""
    if (not isinstance(content_type, str) or len(content_type) > _MAX_CONTENT_TYPE_CHARS
            or not _CONTENT_TYPE.fullmatch(content_type)):
        raise ValueError(f"content_type {content_type!r} is not a MIME type like 'application/pdf'")
    return content_type


def validate_upload_content_type(content_type: str) -> str:
    """A MIME type (``validate_content_type``) that is not active content (``refuse_active``)."""
    return refuse_active(validate_content_type(content_type))


def validate_content_length(content_length: int) -> int:
    """The exact body size a PUT is signed for: 0 to 5 GiB (S3's single-PUT limit)."""
    if isinstance(content_length, bool) or not isinstance(content_length, int) or not 0 <= content_length <= MAX_SINGLE_UPLOAD_BYTES:
        raise ValueError(f"content_length must be the body's size in bytes, 0 to {MAX_SINGLE_UPLOAD_BYTES} (5 GiB), "
                         f"got {content_length!r}")
    return content_length


def validate_checksum_sha256(checksum: str) -> str:
    """A base64 SHA-256 digest (44 characters), as S3's ``x-amz-checksum-sha256`` expects."""
    try:
        raw = base64.b64decode(checksum, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raw = b""
    if len(raw) != _SHA256_DIGEST_BYTES:
        raise ValueError("checksum_sha256 must be the base64 encoding of a 32-byte SHA-256 digest")
    return checksum


def validate_expires_in(expires_in: int) -> int:
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise ValueError(f"expires_in must be an integer number of seconds, got {expires_in!r}")
    if expires_in < MIN_EXPIRES_SECONDS:
        raise ValueError(f"expires_in must be at least {MIN_EXPIRES_SECONDS} second, got {expires_in}")
    if expires_in > MAX_EXPIRES_SECONDS:
        raise ValueError(f"expires_in {expires_in} exceeds the SigV4 maximum of {MAX_EXPIRES_SECONDS} seconds (7 days)")
    return expires_in


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266 header value: an ASCII ``filename`` fallback plus the exact UTF-8 ``filename*``."""
    if disposition not in _DISPOSITIONS:
        raise ValueError(f"disposition must be one of {', '.join(_DISPOSITIONS)}, got {disposition!r}")
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


class CredentialSource:
    """Hands out the current frozen credentials and their expiry.

    Accepts :class:`SigningCredentials`, botocore credentials (``RefreshableCredentials`` from
    :func:`securestore.sts.assume_role_session` refresh themselves here) or a ``boto3.Session``.
    """

    def __init__(self, credentials: Any) -> None:
        if credentials is None:
            raise ValueError("credentials are required to sign")
        if hasattr(credentials, "get_credentials"):  # boto3.Session / botocore session
            credentials = credentials.get_credentials()
            if credentials is None:
                raise ValueError("the session has no credentials")
        self._source = credentials

    def current(self) -> SigningCredentials:
        source = self._source
        if isinstance(source, SigningCredentials):
            return source
        # Read the expiry first: if a refresh happens in between, we clamp to the older, earlier one.
        expiry = getattr(source, "_expiry_time", None)
        frozen = source.get_frozen_credentials()
        if expiry is not None and expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=_dt.timezone.utc)
        return SigningCredentials(frozen.access_key, frozen.secret_key, frozen.token, expiry)


def effective_expiry(expires_in: int, credentials: SigningCredentials, now: _dt.datetime) -> int:
    """``expires_in`` validated, then clamped (with a warning) to the credentials' remaining life."""
    validate_expires_in(expires_in)
    if credentials.expiry is None:
        return expires_in
    remaining = int((credentials.expiry - now).total_seconds())
    if remaining < MIN_EXPIRES_SECONDS:
        raise ValueError(f"the signing credentials expired at {credentials.expiry.isoformat()}; refresh them first")
    if expires_in > remaining:
        warnings.warn(
            f"expires_in {expires_in}s outlives the signing credentials (expire at "
            f"{credentials.expiry.isoformat()}); clamped to {remaining}s",
            ExpiryClampedWarning,
            stacklevel=3,
        )
        return remaining
    return expires_in


class S3Presigner:
    """Signs tenant uploads and downloads for one bucket, region and KMS key.

    Build one per process (it caches signing keys) and inject the credentials: a
    ``boto3.Session`` (e.g. from :func:`securestore.sts.assume_role_session`), botocore
    credentials, or :class:`SigningCredentials`.
    """

    def __init__(
        self,
        *,
        bucket: str,
        region_name: str,
        kms_key_id: Optional[str],
        credentials: Any,
        endpoint_url: Optional[str] = None,
        allowed_modules: Optional[Collection[str]] = None,
        bucket_key_enabled: Optional[bool] = None,
        clock: Optional[Clock] = None,
    ) -> None:
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket) or bucket.startswith(("xn--", "sthree-")):
            raise ValueError(
                f"bucket {bucket!r} must be a DNS-compatible name without dots (3-63 of a-z, 0-9, '-')"
            )
        if not isinstance(region_name, str) or not _REGION.fullmatch(region_name):
            raise ValueError(f"region_name {region_name!r} is not an AWS region like 'eu-central-1'")
        # None: a download-only presigner (presign_get needs no key; uploads refuse to sign).
        if kms_key_id is not None:
            require_key_arn(kms_key_id, "kms_key_id")  # the bucket policy compares the key ARN
        self.bucket = bucket
        self.region_name = region_name
        self.kms_key_id = kms_key_id
        self.allowed_modules = allowed_modules
        self.bucket_key_enabled = bucket_key_enabled
        self.endpoint: S3Endpoint = regional_endpoint(bucket, region_name, endpoint_url)
        self._credentials = CredentialSource(credentials)
        self._signer = SigV4Signer(region_name)
        self._clock = clock or _utc_now

    def _now(self) -> _dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("clock returned a naive datetime; it must be timezone-aware UTC")
        return now

    def _sse_headers(self) -> dict[str, str]:
        if self.kms_key_id is None:
            raise ValueError("kms_key_id is required to sign an upload (every upload is SSE-KMS with the stack's key)")
        headers = {
            "x-amz-server-side-encryption": SSE_KMS,
            "x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id,
        }
        if self.bucket_key_enabled is not None:  # None: the bucket default decides, and browsers need no such header
            headers["x-amz-server-side-encryption-bucket-key-enabled"] = str(self.bucket_key_enabled).lower()
        return headers

    def presign_put(
        self,
        tenant_id: str,
        module: str,
        filename: str,
        *,
        content_type: str,
        content_length: int,
        date: Optional[DateLike] = None,
        checksum_sha256: Optional[str] = None,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> PresignedRequest:
        """A PUT URL for ``tenant_id/module/yyyy/mm/dd/filename`` with SSE-KMS, the content type
        and the body size signed in.

        ``content_length``: the exact size of the body; S3 refuses any other (without it one URL
        would accept up to 5 GiB). Every HTTP client (and every browser) sends the header from
        the body, so it is not among the returned headers. ``checksum_sha256`` (base64) is signed
        as ``x-amz-checksum-sha256``: S3 then rejects a body with another digest. The returned
        headers must all be sent with the PUT.
        """
        now = self._now()
        tenant_key = build_tenant_key(tenant_id, module, filename, date or now, allowed_modules=self.allowed_modules)
        headers = {"Content-Type": validate_upload_content_type(content_type), **self._sse_headers()}
        if checksum_sha256 is not None:
            headers["x-amz-checksum-sha256"] = validate_checksum_sha256(checksum_sha256)
        signed = {**headers, "Content-Length": str(validate_content_length(content_length))}
        credentials = self._credentials.current()
        lifetime = effective_expiry(expires_in, credentials, now)
        url = self._signer.presign_url(
            credentials, "PUT", self.endpoint, tenant_key.key, expires_in=lifetime, now=now, headers=signed
        )
        return PresignedRequest("PUT", url, headers, tenant_key.key, now + _dt.timedelta(seconds=lifetime))

    def presign_post(
        self,
        tenant_id: str,
        module: str,
        filename: str,
        *,
        content_type: str,
        max_bytes: int,
        min_bytes: int = 0,
        date: Optional[DateLike] = None,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
        success_action_status: Optional[int] = 201,
    ) -> PresignedPost:
        """A browser POST form for one exact tenant key, one content type and a size range."""
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1 <= max_bytes <= MAX_SINGLE_UPLOAD_BYTES:
            raise ValueError(f"max_bytes must be an integer from 1 to {MAX_SINGLE_UPLOAD_BYTES} (5 GiB), got {max_bytes!r}")
        if isinstance(min_bytes, bool) or not isinstance(min_bytes, int) or not 0 <= min_bytes <= max_bytes:
            raise ValueError(f"min_bytes must be an integer from 0 to max_bytes ({max_bytes}), got {min_bytes!r}")
        if success_action_status not in (None, 200, 201, 204):
            raise ValueError("success_action_status must be 200, 201, 204 or None")
        now = self._now()
        tenant_key = build_tenant_key(tenant_id, module, filename, date or now, allowed_modules=self.allowed_modules)
        validate_upload_content_type(content_type)
        fields: dict[str, str] = {"Content-Type": content_type, **self._sse_headers()}
        if success_action_status is not None:
            fields["success_action_status"] = str(success_action_status)
        conditions: list[object] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", min_bytes, max_bytes])
        conditions.append({"bucket": self.bucket})
        conditions.append({"key": tenant_key.key})
        fields["key"] = tenant_key.key
        credentials = self._credentials.current()
        lifetime = effective_expiry(expires_in, credentials, now)
        url, form = self._signer.presign_post(
            credentials, self.endpoint, fields=fields, conditions=conditions, expires_in=lifetime, now=now
        )
        return PresignedPost(url, form, tenant_key.key, now + _dt.timedelta(seconds=lifetime), max_bytes, content_type)

    def presign_get(
        self,
        tenant_id: str,
        key: Union[str, TenantKey],
        *,
        download_name: Optional[str] = None,
        disposition: str = "attachment",
        response_content_type: Optional[str] = None,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> PresignedRequest:
        """A GET URL for one of ``tenant_id``'s objects; a key of another tenant is refused.

        The response carries ``Content-Disposition`` (``attachment`` by default, with the
        original filename or ``download_name``), so a stored HTML file is downloaded, not rendered.
        """
        validate_tenant_id(tenant_id)
        raw_key = key.key if isinstance(key, TenantKey) else key
        tenant_key = ensure_within_tenant(raw_key, tenant_id)
        query = [("response-content-disposition", content_disposition(download_name or tenant_key.filename, disposition))]
        if response_content_type is not None:
            query.append(("response-content-type", validate_upload_content_type(response_content_type)))
        now = self._now()
        credentials = self._credentials.current()
        lifetime = effective_expiry(expires_in, credentials, now)
        url = self._signer.presign_url(
            credentials, "GET", self.endpoint, tenant_key.key, expires_in=lifetime, now=now, query=query
        )
        return PresignedRequest("GET", url, {}, tenant_key.key, now + _dt.timedelta(seconds=lifetime))
