"""CloudFront signed URLs and signed cookies for tenants' private files.

Private paths of the distribution trust one key group; we sign with the matching RSA private
key (loaded once per process: parsing a PEM costs more than signing). The signature is RSA
PKCS#1 v1.5 over the policy JSON, SHA-1 by default. SHA-256 is optional: the CloudFront
Developer Guide ("Code examples for creating a signature for a signed URL", and "Set signed
cookies using a canned policy") says SHA-256 may be used if the URL carries
``Hash-Algorithm=SHA256`` (cookies: ``CloudFront-Hash-Algorithm``); botocore's
``CloudFrontSigner`` knows only SHA-1, so only SHA-1 output is compared with it.

Output for the same inputs is identical to botocore's ``CloudFrontSigner``: the same compact
policy JSON (keys in the documented order), the same URL-safe base64 (``+`` -> ``-``,
``=`` -> ``_``, ``/`` -> ``~``), the same parameter order.

Tenants: :meth:`CloudFrontSigner.tenant_url` takes a tenant and a key and refuses a key outside
the tenant's prefix; :meth:`CloudFrontSigner.tenant_cookies` signs one custom policy for
``https://<domain>/<tenant_id>/*``, so one signature covers every file of a browser session,
with the cookies' ``Path`` limited to that prefix.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union
from urllib.parse import quote, urlsplit

from securestore.keys import TenantKey, ensure_within_tenant, tenant_prefix

HASH_ALGORITHMS = ("SHA1", "SHA256")
DEFAULT_URL_LIFETIME_SECONDS = 15 * 60
DEFAULT_COOKIE_LIFETIME_SECONDS = 60 * 60
#: A bound on how far ahead we sign; a leaked signed URL should not live for years.
MAX_LIFETIME_SECONDS = 7 * 24 * 60 * 60
CLOUDFRONT_RSA_KEY_BITS = 2048
"""CloudFront key groups accept RSA 2048-bit public keys, no other size."""
MIN_RSA_KEY_BITS = CLOUDFRONT_RSA_KEY_BITS
"""Kept for callers of the old name; the rule is now: exactly 2048."""
_KEY_PAIR_ID = re.compile(r"K[A-Z0-9]{7,31}|APKA[A-Z0-9]{8,28}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_KEY_PATH_SAFE = "/~!$&'()*+,;=:@"

Clock = Callable[[], _dt.datetime]
DateOrNone = Optional[_dt.datetime]


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def url_b64encode(data: bytes) -> str:
    """CloudFront's URL-safe base64: ``+`` -> ``-``, ``=`` -> ``_``, ``/`` -> ``~``."""
    return base64.b64encode(data).decode("ascii").replace("+", "-").replace("=", "_").replace("/", "~")


def epoch_seconds(moment: _dt.datetime, what: str) -> int:
    if not isinstance(moment, _dt.datetime) or moment.tzinfo is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return int(moment.timestamp())


def normalise_ip_range(ip_range: str) -> str:
    """An IPv4 CIDR (a bare address gets /32, as botocore does); host bits set are refused.

    IPv6 is refused: CloudFront's ``IpAddress`` policy condition matches IPv4 viewers only (its
    documentation advises not to enable IPv6 on a distribution whose custom policies use it).
    """
    try:
        network = ipaddress.ip_network(ip_range, strict=True)
    except ValueError as exc:
        raise ValueError(f"ip_range {ip_range!r} is not an IP address or CIDR range: {exc}") from None
    if network.version != 4:
        raise ValueError(f"ip_range {ip_range!r} is IPv6; CloudFront signed-URL policies take IPv4 ranges only")
    return ip_range if "/" in ip_range else f"{ip_range}/32"


def build_policy(resource: str, date_less_than: _dt.datetime, date_greater_than: DateOrNone = None,
                 ip_range: Optional[str] = None) -> str:
    """The compact policy JSON, byte-identical to botocore's ``CloudFrontSigner.build_policy``."""
    condition: dict[str, Any] = {"DateLessThan": {"AWS:EpochTime": epoch_seconds(date_less_than, "expires_at")}}
    if ip_range:
        condition["IpAddress"] = {"AWS:SourceIp": normalise_ip_range(ip_range)}
    if date_greater_than:
        condition["DateGreaterThan"] = {"AWS:EpochTime": epoch_seconds(date_greater_than, "starts_at")}
    return json.dumps({"Statement": [{"Resource": resource, "Condition": condition}]}, separators=(",", ":"))


def load_private_key(pem: Union[bytes, str], password: Optional[bytes] = None):
    """Parse an RSA private key once; refuse other key types and sizes CloudFront refuses.

    No message says anything about the key's content: an error text that quoted the input
    (or a parser's message about it) would put private-key material into logs.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnicodeError):
        raise ValueError(
            "private key is not a readable PEM private key (content not shown); expected "
            "-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----, unencrypted"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("CloudFront key groups need an RSA private key (content not shown)")
    if key.key_size != CLOUDFRONT_RSA_KEY_BITS:
        raise ValueError(
            f"RSA key has {key.key_size} bits; CloudFront key groups accept only "
            f"{CLOUDFRONT_RSA_KEY_BITS}-bit RSA keys"
        )
    return key


_SHOWABLE_SOURCE_CHARS = 200


def read_private_key_source(value: str, names: str = "the private key setting") -> bytes:
    """PEM bytes from ``value``, which holds either PEM content (the usual way to pass a
    secret into a container) or a path to a PEM file.

    A value that cannot be read is named only when it looks like a path (one short line,
    no PEM armour); anything else is described by its length, never echoed.
    """
    if "-----BEGIN" in value:
        return value.strip().encode("ascii", errors="replace") + b"\n"
    try:
        with open(value, "rb") as handle:
            return handle.read()
    except (OSError, ValueError) as exc:
        looks_like_path = len(value) <= _SHOWABLE_SOURCE_CHARS and "\n" not in value and "PRIVATE" not in value
        shown = repr(value) if looks_like_path else f"<value not shown: {len(value)} characters, not a PEM>"
        reason = getattr(exc, "strerror", None) or "not a file path"
        raise ValueError(
            f"cannot read the private key from {names}: {shown} is neither PEM content "
            f"(-----BEGIN ... PRIVATE KEY-----) nor a readable file ({reason})"
        ) from None


@dataclasses.dataclass(frozen=True)
class SignedCookies:
    """CloudFront signed cookies for one resource pattern; set them all, with ``set_cookie_headers``."""

    cookies: Mapping[str, str]
    resource: str
    domain: Optional[str]
    path: str
    expires_at: _dt.datetime

    def set_cookie_headers(self, *, same_site: str = "Strict") -> list[str]:
        """``Set-Cookie`` values: Secure, HttpOnly, Path limited to the prefix; session cookies
        (no Expires/Max-Age, as CloudFront recommends), the policy carries the real expiry."""
        if same_site not in ("Strict", "Lax", "None"):
            raise ValueError("same_site must be Strict, Lax or None")
        attributes = f"Path={self.path}; Secure; HttpOnly; SameSite={same_site}"
        if self.domain:
            attributes = f"Domain={self.domain}; " + attributes
        return [f"{name}={value}; {attributes}" for name, value in self.cookies.items()]

    def as_dict(self) -> dict[str, Any]:
        return {"cookies": dict(self.cookies), "resource": self.resource, "domain": self.domain,
                "path": self.path, "expires_at": self.expires_at.isoformat(),
                "set_cookie_headers": self.set_cookie_headers()}


class CloudFrontSigner:
    """Signs URLs and cookies for one distribution domain with one key-group key."""

    def __init__(
        self,
        *,
        key_pair_id: str,
        private_key: Any,
        domain: str,
        hash_algorithm: str = "SHA1",
        clock: Optional[Clock] = None,
        distribution_ipv6: bool = True,
    ) -> None:
        """``private_key``: PEM bytes/str or an already loaded ``RSAPrivateKey``.

        ``distribution_ipv6``: the distribution serves IPv6 (stack config
        ``cloudfrontIpv6Enabled``, default true). CloudFront's ``IpAddress`` condition matches
        IPv4 viewers only and AWS advises against IP-restricted policies on such a
        distribution, so ``ip_range`` is refused unless this is False."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if not isinstance(key_pair_id, str) or not _KEY_PAIR_ID.fullmatch(key_pair_id):
            raise ValueError(f"key_pair_id {key_pair_id!r} is not a CloudFront public key id (K...)")
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
            raise ValueError(f"domain {domain!r} is not a lower-case host name like d111111abcdef8.cloudfront.net")
        if hash_algorithm not in HASH_ALGORITHMS:
            raise ValueError(f"hash_algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {hash_algorithm!r}")
        if isinstance(private_key, (bytes, str)):
            private_key = load_private_key(private_key)
        elif not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("private_key must be PEM text or an RSA private key object")
        self.key_pair_id = key_pair_id
        self.domain = domain
        self.hash_algorithm = hash_algorithm
        self._key = private_key
        self._padding = padding.PKCS1v15()
        self._hash = hashes.SHA1() if hash_algorithm == "SHA1" else hashes.SHA256()
        self._clock = clock or _utc_now
        self.distribution_ipv6 = bool(distribution_ipv6)

    def _check_ip_range(self, ip_range: Optional[str]) -> None:
        if ip_range is not None and self.distribution_ipv6:
            raise ValueError(
                f"ip_range {ip_range!r}: the distribution serves IPv6, where an IP-restricted policy does not "
                "hold (CloudFront matches IPv4 ranges only); turn IPv6 off (cloudfrontIpv6Enabled: false) and "
                "sign with distribution_ipv6=False, or sign without ip_range")

    @classmethod
    def from_pem_file(cls, path: Union[str, Path], **kwargs: Any) -> "CloudFrontSigner":
        return cls(private_key=Path(path).read_bytes(), **kwargs)

    def sign(self, message: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature of ``message`` (usable as botocore's ``rsa_signer``)."""
        return self._key.sign(message, self._padding, self._hash)

    def _expiry(self, expires_at: DateOrNone, expires_in: Optional[int], default: int) -> _dt.datetime:
        now = self._clock()
        if expires_at is not None and expires_in is not None:
            raise ValueError("give expires_at or expires_in, not both")
        if expires_at is None:
            lifetime = default if expires_in is None else expires_in
            if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
                raise ValueError(f"expires_in must be a positive number of seconds, got {lifetime!r}")
            expires_at = now + _dt.timedelta(seconds=lifetime)
        epoch_seconds(expires_at, "expires_at")
        if expires_at <= now:
            raise ValueError(f"expires_at {expires_at.isoformat()} is in the past")
        if (expires_at - now).total_seconds() > MAX_LIFETIME_SECONDS:
            raise ValueError(f"expires_at is more than {MAX_LIFETIME_SECONDS // 86400} days ahead")
        return expires_at

    def _check_start(self, starts_at: DateOrNone, expires_at: _dt.datetime) -> None:
        if starts_at is not None:
            epoch_seconds(starts_at, "starts_at")
            if starts_at >= expires_at:
                raise ValueError("starts_at must be before expires_at")

    def signed_url(
        self,
        url: str,
        *,
        expires_at: DateOrNone = None,
        expires_in: Optional[int] = None,
        starts_at: DateOrNone = None,
        ip_range: Optional[str] = None,
        policy_resource: Optional[str] = None,
    ) -> str:
        """Sign ``url`` (on this distribution). A canned policy unless ``starts_at``, ``ip_range``
        or a wildcard ``policy_resource`` ask for a custom one."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != self.domain or parts.fragment:
            raise ValueError(f"url {url!r} must be an https URL on {self.domain} without a fragment")
        expiry = self._expiry(expires_at, expires_in, DEFAULT_URL_LIFETIME_SECONDS)
        self._check_start(starts_at, expiry)
        self._check_ip_range(ip_range)
        custom = starts_at is not None or ip_range is not None or policy_resource is not None
        if custom and policy_resource is None and "*" in url:
            # A custom policy's Resource is matched with * and ? as wildcards: a '*' in a file
            # name would open every file the pattern matches ('?' in a key is percent-encoded
            # by object_url; a '?' here starts the query string the caller chose).
            raise ValueError(f"url {url!r} contains '*', which a custom policy (starts_at or ip_range) would read "
                             "as a wildcard; sign it without starts_at and ip_range (canned policy)")
        policy = build_policy(policy_resource or url, expiry, starts_at, ip_range).encode("utf-8")
        if custom:
            params = [f"Policy={url_b64encode(policy)}"]
        else:
            params = [f"Expires={epoch_seconds(expiry, 'expires_at')}"]
        params.append(f"Signature={url_b64encode(self.sign(policy))}")
        params.append(f"Key-Pair-Id={self.key_pair_id}")
        if self.hash_algorithm != "SHA1":
            params.append(f"Hash-Algorithm={self.hash_algorithm}")
        return url + ("&" if "?" in url else "?") + "&".join(params)

    def object_url(self, key: str) -> str:
        """The unsigned distribution URL of an object key (path percent-encoded as S3 expects)."""
        return f"https://{self.domain}/{quote(key, safe=_KEY_PATH_SAFE)}"

    def tenant_url(
        self,
        tenant_id: str,
        key: Union[str, TenantKey],
        *,
        expires_at: DateOrNone = None,
        expires_in: Optional[int] = None,
        starts_at: DateOrNone = None,
        ip_range: Optional[str] = None,
    ) -> str:
        """A signed URL for one of ``tenant_id``'s objects; a key of another tenant is refused."""
        raw_key = key.key if isinstance(key, TenantKey) else key
        tenant_key = ensure_within_tenant(raw_key, tenant_id)
        return self.signed_url(self.object_url(tenant_key.key), expires_at=expires_at, expires_in=expires_in,
                               starts_at=starts_at, ip_range=ip_range)

    def signed_cookies(
        self,
        resource: str,
        *,
        expires_at: DateOrNone = None,
        expires_in: Optional[int] = None,
        starts_at: DateOrNone = None,
        ip_range: Optional[str] = None,
        path: str = "/",
        cookie_domain: Optional[str] = None,
    ) -> SignedCookies:
        """Signed cookies for ``resource`` (which may end in ``*``): custom policy when it has a
        wildcard, a start time or an IP range; canned otherwise."""
        parts = urlsplit(resource)
        if parts.scheme != "https" or parts.hostname != self.domain:
            raise ValueError(f"resource {resource!r} must be an https URL on {self.domain}")
        expiry = self._expiry(expires_at, expires_in, DEFAULT_COOKIE_LIFETIME_SECONDS)
        self._check_start(starts_at, expiry)
        self._check_ip_range(ip_range)
        policy = build_policy(resource, expiry, starts_at, ip_range).encode("utf-8")
        custom = "*" in resource or "?" in resource or starts_at is not None or ip_range is not None
        cookies: dict[str, str] = {}
        if custom:
            cookies["CloudFront-Policy"] = url_b64encode(policy)
        else:
            cookies["CloudFront-Expires"] = str(epoch_seconds(expiry, "expires_at"))
        cookies["CloudFront-Signature"] = url_b64encode(self.sign(policy))
        cookies["CloudFront-Key-Pair-Id"] = self.key_pair_id
        if self.hash_algorithm != "SHA1":
            cookies["CloudFront-Hash-Algorithm"] = self.hash_algorithm
        return SignedCookies(cookies, resource, cookie_domain, path, expiry)

    def tenant_cookies(
        self,
        tenant_id: str,
        *,
        expires_at: DateOrNone = None,
        expires_in: Optional[int] = None,
        starts_at: DateOrNone = None,
        ip_range: Optional[str] = None,
        cookie_domain: Optional[str] = None,
    ) -> SignedCookies:
        """One signature for every file under ``https://<domain>/<tenant_id>/*``; cookie Path is
        ``/<tenant_id>/`` so the browser sends them only for that tenant's files."""
        prefix = tenant_prefix(tenant_id)
        return self.signed_cookies(
            f"https://{self.domain}/{prefix}*", expires_at=expires_at, expires_in=expires_in,
            starts_at=starts_at, ip_range=ip_range, path=f"/{prefix}", cookie_domain=cookie_domain,
        )
