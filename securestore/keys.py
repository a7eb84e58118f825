"""Tenant object keys: ``tenant_id/module/yyyy/mm/dd/filename``, built and parsed here only.

Every object in the bucket lives under its tenant's prefix, and IAM confines a tenant role to
``bucket/${aws:PrincipalTag/tenant_id}/*``. That confinement is only as good as the keys we
make, so this module is the single place a key is built: each part is validated so that no
input (``..``, a slash in a filename, a control character, an over-long name) can produce a key
outside ``tenant_id/``, and ``parse_key`` accepts exactly the keys ``build_key`` can produce.

Patterns (documented here, enforced below):

* ``tenant_id``: 1-63 characters, ASCII letters, digits, ``_`` and ``-``, starting with a letter
  or digit (``T001``, ``acme-gmbh``). The name ``public`` (any case) is reserved: CloudFront
  serves ``public/*`` unsigned to everyone, so no tenant may own that prefix.
* ``module``: 1-63 characters, lower-case ASCII letters, digits, ``_`` and ``-``, starting with
  a letter or digit (``uploads``, ``purchase-orders``). A deployment may restrict modules to a
  configured set with ``allowed_modules``.
* date: the UTC calendar date, written ``yyyy/mm/dd``. Naive datetimes are refused (their
  meaning depends on the machine's clock zone); aware ones are converted to UTC first.
* ``filename``: normalised to Unicode NFC; not empty, not ``.`` or ``..``; no ``/``, no ``\\``,
  no control characters (Unicode category Cc, e.g. NUL, newline, DEL), no lone surrogates; no
  invisible format characters (category Cf: bidi overrides and isolates such as U+202E, which
  make ``invoice\u202efdp.exe`` display as ``invoiceexe.pdf``, zero-width characters, the BOM);
  no Unicode non-characters (U+FDD0-FDEF, U+xFFFE/xFFFF); nothing that compatibility
  normalisation (NFKC, which some filesystems, archivers and browsers apply) turns into ``/``,
  ``\\``, ``.`` or ``..`` (full-width solidus U+FF0F, two-dot leader U+2025); and the whole key
  fits S3's 1024-byte UTF-8 limit.

``local_file_name(key)`` applies the same rules to the last segment of any key before a
download writes it to disk, and refuses keys whose last segment is empty (``dir/``).
"""

from __future__ import annotations

import dataclasses
import functools
import datetime as _dt
import re
import string
import unicodedata
from typing import Collection, Optional, Union

#: S3's hard limit on the UTF-8 length of an object key.
MAX_KEY_BYTES = 1024
#: Longest tenant id or module name (a DNS label's length: short, and fits IAM tag values).
MAX_NAME_CHARS = 63

#: The tenant id rule in parts: the role trusts build their IAM conditions from the same parts
#: (``components/role_policies.tenant_id_refusals``), so the two cannot disagree.
TENANT_ID_FIRST_CHARS = frozenset(string.ascii_letters + string.digits)
TENANT_ID_CHARS = TENANT_ID_FIRST_CHARS | frozenset("_-")
TENANT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,%d}" % (MAX_NAME_CHARS - 1))
MODULE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
#: Prefixes served or used by the platform itself; a tenant may not be called this.
RESERVED_TENANT_IDS = frozenset({"public"})

_KEY_SEPARATOR = "/"
_DATE_PARTS = 3  # yyyy / mm / dd
_KEY_PARTS = 2 + _DATE_PARTS + 1  # tenant, module, date parts, filename
_YEAR = re.compile(r"[0-9]{4}")
_MONTH_OR_DAY = re.compile(r"[0-9]{2}")
#: '/', '\\', Unicode category Cc (U+0000-001F, U+007F-009F) and surrogates (U+D800-DFFF).
_FORBIDDEN_FILENAME_CHAR = re.compile("[/\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")

DateLike = Union[_dt.date, _dt.datetime]


@dataclasses.dataclass(frozen=True)
class TenantKey:
    """The parts of one tenant object key; ``str(key)`` / ``.key`` gives the S3 key back."""

    tenant_id: str
    module: str
    date: _dt.date
    filename: str

    @functools.cached_property
    def key(self) -> str:
        """The S3 key (computed once; the dataclass is frozen)."""
        return _join(self.tenant_id, self.module, self.date, self.filename)

    @property
    def prefix(self) -> str:
        """The tenant's prefix, ``tenant_id/``."""
        return tenant_prefix(self.tenant_id)

    def __str__(self) -> str:
        return self.key


def validate_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` if it matches the documented pattern, else raise ``ValueError``."""
    if not isinstance(tenant_id, str):
        raise ValueError(f"tenant_id must be a string, got {type(tenant_id).__name__}")
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise ValueError(
            f"tenant_id {tenant_id!r} is invalid: use 1-{MAX_NAME_CHARS} ASCII letters, digits, "
            "'_' or '-', starting with a letter or digit"
        )
    if tenant_id.lower() in RESERVED_TENANT_IDS:
        raise ValueError(f"tenant_id {tenant_id!r} is reserved (its prefix is served publicly)")
    return tenant_id


def validate_module(module: str, allowed_modules: Optional[Collection[str]] = None) -> str:
    """Return ``module`` if it matches the pattern (and ``allowed_modules``, when given)."""
    if not isinstance(module, str):
        raise ValueError(f"module must be a string, got {type(module).__name__}")
    if not MODULE_PATTERN.fullmatch(module):
        raise ValueError(
            f"module {module!r} is invalid: use 1-{MAX_NAME_CHARS} lower-case ASCII letters, "
            "digits, '_' or '-', starting with a letter or digit"
        )
    if allowed_modules is not None and module not in allowed_modules:
        allowed = ", ".join(sorted(allowed_modules)) or "(none)"
        raise ValueError(f"module {module!r} is not allowed here; allowed modules: {allowed}")
    return module


def normalise_filename(filename: str) -> str:
    """Return ``filename`` in NFC if it is a safe single path segment, else raise ``ValueError``."""
    if not isinstance(filename, str):
        raise ValueError(f"filename must be a string, got {type(filename).__name__}")
    normalised = unicodedata.normalize("NFC", filename)
    if not normalised:
        raise ValueError("filename is empty")
    if normalised in (".", ".."):
        raise ValueError(f"filename {normalised!r} is a relative path segment")
    bad = _FORBIDDEN_FILENAME_CHAR.search(normalised)
    if bad is not None:
        char = bad.group()
        if char in "/\\":
            raise ValueError(f"filename {filename!r} contains {char!r}")
        if unicodedata.category(char) == "Cs":
            raise ValueError(f"filename {filename!r} contains lone surrogate U+{ord(char):04X}")
        raise ValueError(f"filename {filename!r} contains control character U+{ord(char):04X}")
    for char in normalised:
        code = ord(char)
        if unicodedata.category(char) == "Cf":
            raise ValueError(
                f"filename {filename!r} contains invisible format character U+{code:04X} "
                f"({unicodedata.name(char, 'unnamed')}): bidi and zero-width characters disguise names")
        if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            raise ValueError(f"filename {filename!r} contains Unicode non-character U+{code:04X}")
    folded = unicodedata.normalize("NFKC", normalised)
    if folded in (".", "..") or "/" in folded or "\\" in folded:
        raise ValueError(
            f"filename {filename!r} becomes {folded!r} under compatibility normalisation (NFKC): "
            "a look-alike of a path separator or dot segment")
    return normalised


def local_file_name(key: str) -> str:
    """The file name a download of ``key`` into a directory may use: its last segment, checked
    with the filename rules above (``ValueError`` naming the key otherwise)."""
    last = key.rsplit(_KEY_SEPARATOR, 1)[-1]
    if not last:
        raise ValueError(f"key {key!r} ends with '/': it has no file name to save under; "
                         "give a destination file name instead of a directory")
    try:
        return normalise_filename(last)
    except ValueError as error:
        raise ValueError(f"key {key!r} cannot be saved under its own name: {error}; "
                         "give a destination file name instead of a directory") from None


def utc_date(date: Optional[DateLike] = None) -> _dt.date:
    """The UTC calendar date for ``date`` (today in UTC when ``None``); naive datetimes refused."""
    if date is None:
        return _dt.datetime.now(_dt.timezone.utc).date()
    if isinstance(date, _dt.datetime):
        if date.tzinfo is None or date.tzinfo.utcoffset(date) is None:
            raise ValueError(
                f"date {date.isoformat()} is a naive datetime; pass a timezone-aware one or a date"
            )
        return date.astimezone(_dt.timezone.utc).date()
    if isinstance(date, _dt.date):
        return date
    raise ValueError(f"date must be a date or datetime, got {type(date).__name__}")


def tenant_prefix(tenant_id: str) -> str:
    """The key prefix every object of ``tenant_id`` lives under: ``"<tenant_id>/"``."""
    return validate_tenant_id(tenant_id) + _KEY_SEPARATOR


def module_prefix(tenant_id: str, module: str, *, allowed_modules: Optional[Collection[str]] = None) -> str:
    """The prefix of one module of one tenant: ``"<tenant_id>/<module>/"``."""
    return tenant_prefix(tenant_id) + validate_module(module, allowed_modules) + _KEY_SEPARATOR


def build_key(
    tenant_id: str,
    module: str,
    filename: str,
    date: Optional[DateLike] = None,
    *,
    allowed_modules: Optional[Collection[str]] = None,
) -> str:
    """Build ``tenant_id/module/yyyy/mm/dd/filename``; every part validated, ``ValueError`` if not.

    ``date`` defaults to today's UTC date. The filename is NFC-normalised, so the same name typed
    on macOS (NFD) and Windows (NFC) lands on the same key.
    """
    return build_tenant_key(tenant_id, module, filename, date, allowed_modules=allowed_modules).key


def build_tenant_key(
    tenant_id: str,
    module: str,
    filename: str,
    date: Optional[DateLike] = None,
    *,
    allowed_modules: Optional[Collection[str]] = None,
) -> TenantKey:
    """Like ``build_key`` but returns the validated parts as a ``TenantKey``."""
    parts = TenantKey(
        tenant_id=validate_tenant_id(tenant_id),
        module=validate_module(module, allowed_modules),
        date=utc_date(date),
        filename=normalise_filename(filename),
    )
    key_bytes = len(parts.key.encode("utf-8"))
    if key_bytes > MAX_KEY_BYTES:
        raise ValueError(
            f"filename is too long: the key would be {key_bytes} bytes in UTF-8, "
            f"S3 allows at most {MAX_KEY_BYTES}"
        )
    return parts


def parse_key(key: str, *, allowed_modules: Optional[Collection[str]] = None) -> TenantKey:
    """Split a key made by ``build_key`` back into its parts; refuse anything it could not make."""
    if not isinstance(key, str):
        raise ValueError(f"key must be a string, got {type(key).__name__}")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ValueError(f"key is longer than S3's {MAX_KEY_BYTES}-byte limit")
    parts = key.split(_KEY_SEPARATOR, _KEY_PARTS - 1)
    if len(parts) != _KEY_PARTS:
        raise ValueError(
            f"key {key!r} does not have the form tenant_id/module/yyyy/mm/dd/filename"
        )
    tenant_id, module, year, month, day, filename = parts
    if not (_YEAR.fullmatch(year) and _MONTH_OR_DAY.fullmatch(month) and _MONTH_OR_DAY.fullmatch(day)):
        raise ValueError(f"key {key!r} has no yyyy/mm/dd date after the module")
    try:
        date = _dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"date {year}/{month}/{day} in key {key!r} is not a calendar date: {exc}") from None
    if filename != unicodedata.normalize("NFC", filename):
        raise ValueError(f"filename {filename!r} in key is not NFC-normalised")
    parsed = build_tenant_key(tenant_id, module, filename, date, allowed_modules=allowed_modules)
    if parsed.key != key:  # pragma: no cover - defensive: the checks above make this unreachable
        raise ValueError(f"key {key!r} is not in canonical form")
    return parsed


def ensure_within_tenant(key: str, tenant_id: str) -> TenantKey:
    """Parse ``key`` and refuse it unless it belongs to ``tenant_id``."""
    parsed = parse_key(key)
    if parsed.tenant_id != validate_tenant_id(tenant_id):
        raise ValueError(
            f"key {key!r} belongs to tenant {parsed.tenant_id!r}, not to tenant {tenant_id!r}"
        )
    return parsed


def scope_to_tenant(tenant_id: str, key_or_prefix: Optional[str]) -> str:
    """The key or prefix a tenant-scoped operation may use: ``key_or_prefix`` when it lies under
    ``tenant_id/``, the tenant's own prefix when it names the tenant itself (``None``, ``""``,
    ``"."``, ``"T"`` or ``"T/"``); ``ValueError`` for anything else.

    The one statement of "a key must lie under its tenant" for listing, removing, downloading and
    aborting uploads (``build_key`` makes keys that do; this checks keys someone typed).
    """
    prefix = tenant_prefix(tenant_id)
    if key_or_prefix in (None, "", ".", tenant_id, prefix):
        return prefix
    if not key_or_prefix.startswith(prefix):
        raise ValueError(f"{key_or_prefix!r} is outside tenant {tenant_id!r} (its keys start with {prefix})")
    return key_or_prefix


def _join(tenant_id: str, module: str, date: _dt.date, filename: str) -> str:
    return f"{tenant_id}/{module}/{date.year:04d}/{date.month:02d}/{date.day:02d}/{filename}"
