"""The stack's settings: read from Pulumi config once, validated, frozen, handed down.

Components never read ``pulumi.Config``; ``__main__.py`` calls ``load()`` once and passes
plain values down. Validation happens here, before any resource is registered, so that a
bad value stops ``pulumi up`` with a message naming the key, the value and what is
allowed, instead of half a stack or an AWS error twenty minutes later.

``parse()`` works on a plain mapping of raw config strings and has no Pulumi in it, so the
rules can be tested without an engine; ``load()`` is the thin Pulumi adapter.
``DEFAULTS`` must agree with the defaults declared in ``Pulumi.yaml`` (a test checks).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from securestore.content_types import is_active

NAMESPACE = "securestore"

ENVIRONMENTS = ("dev", "prod")
SSE_ALGORITHMS = ("aws:kms",)
DSSE_KMS = "aws:kms:dsse"
"""Dual-layer SSE-KMS, refused on purpose (see ``_key``)."""
MIN_STANDARD_IA_DAYS = 30
"""S3 refuses a transition to STANDARD_IA earlier than 30 days after creation."""
KMS_DELETION_WINDOW_RANGE = (7, 30)
"""AWS KMS accepts a pending-deletion window of 7 to 30 days."""

_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
"""``type/subtype`` in lower case, no parameters (the inline-safe list's entries)."""

DEFAULTS: dict[str, Any] = {
    "environment": "dev",
    "namePrefix": "securestore",
    "corsAllowedOrigins": [],
    "transitionToIaDays": 30,
    "expireAfterDays": 365,
    "noncurrentVersionExpireDays": 90,
    "abortIncompleteMultipartDays": 7,
    "logRetentionDays": 365,
    "inventoryFormat": "CSV",
    "sseAlgorithm": "aws:kms",
    "kmsDeletionWindowDays": 30,
    "kmsAdminArns": [],
    "protect": False,
    "forceDestroy": False,
    "cloudfrontPublicKeyPem": "",
    "cloudfrontPriceClass": "PriceClass_100",
    "geoRestrictionType": "none",
    "geoRestrictionLocations": [],
    "customDomain": "",
    "acmCertificateArn": "",
    "allowDefaultCertificateInProd": False,
    "wafEnabled": True,
    "cloudfrontIpv6Enabled": True,
    "inlineContentTypes": ["application/pdf", "image/gif", "image/jpeg", "image/png", "image/webp", "text/plain"],
    "wafRateLimit": 2000,
    "cloudTrailEnabled": True,
    "cloudTrailCloudWatchLogs": False,
    "cloudTrailLogRetentionDays": 365,
    "notificationEmail": "",
    "ec2AccessMode": "read-only",
    "uploaderTrustedPrincipalArns": [],
    "uploaderExternalId": "",
    "uploaderRequireMfa": False,
    "tenantBrokerPrincipalArns": [],
    "offboardingTrustedPrincipalArns": [],
    "permissionsBoundaryArn": "",
    "roleMaxSessionSeconds": 3600,
    "malwareScan": "auto",
    "malwareScanPrefixes": [],
    "malwareScanReviewerRoleArn": "",
    "malwareScanGateBackends": True,
}
"""Every key this program reads, with its default. Keys without the namespace prefix."""

_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,23}[a-z0-9]$")
_STACK_NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
MAX_RESOURCE_PREFIX_CHARS = 63 - len("-audit-trail-bucket") - len("-1234567")
"""``<namePrefix>-<stack>`` starts every resource name. The longest auto-named bucket is
``<prefix>-audit-trail-bucket-<7 random>``, and S3 bucket names have at most 63 characters."""
_HTTPS_ORIGIN = re.compile(r"^https://([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(:\d{1,5})?$")
_LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1)(:\d{1,5})?$")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
GEO_RESTRICTION_TYPES = ("none", "whitelist", "blacklist")
WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
"""Requests per source IP per 5-minute window; the range AWS WAF accepts."""
CLOUDFRONT_KEY_BITS = 2048
"""CloudFront key groups accept RSA 2048-bit public keys."""
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)
"""The only retention periods CloudWatch Logs accepts."""
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_HOSTNAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ACM_US_EAST_1_ARN = re.compile(
    r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,63}$", re.IGNORECASE)
_IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]{1,512})$"
)


class SettingsError(ValueError):
    """A config value that is not allowed; the message names key, value and the rule."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key = f"{NAMESPACE}:{key}"
        self.value = value
        self.allowed = allowed
        super().__init__(f"config {self.key} = {value!r} is not allowed: {allowed}")


@dataclass(frozen=True)
class LifecycleSettings:
    """Object lifecycle of the data bucket, in days (0 disables expiry)."""

    transition_to_ia_days: int
    expire_after_days: int
    noncurrent_version_expire_days: int
    abort_incomplete_multipart_days: int


@dataclass(frozen=True)
class KeySettings:
    """The customer-managed KMS key."""

    deletion_window_days: int
    admin_arns: tuple[str, ...]
    sse_algorithm: str


@dataclass(frozen=True)
class StorageSettings:
    """The data bucket and its access-log bucket."""

    cors_allowed_origins: tuple[str, ...]
    lifecycle: LifecycleSettings
    log_retention_days: int
    force_destroy: bool
    inventory_format: Optional[str] = "CSV"
    """Daily S3 Inventory of every version into the log bucket: ``CSV`` or ``Parquet``;
    None (config ``off``): no inventory (``securestore tenant usage`` lists the bucket)."""


@dataclass(frozen=True)
class EdgeSettings:
    """CloudFront delivery: the signer's public key, reach, certificate and WAF."""

    public_key_pem: Optional[str]
    """RSA public key (PEM) whose private half signs URLs and cookies; never the private key.
    None (dev only): no signer exists, so every private path answers 403."""
    price_class: str
    geo_restriction_type: str
    geo_restriction_locations: tuple[str, ...]
    custom_domain: Optional[str]
    """Alternate domain name; None serves on the *.cloudfront.net name."""
    acm_certificate_arn: Optional[str]
    """ACM certificate in us-east-1 for ``custom_domain``; set exactly when it is."""
    waf_enabled: bool
    waf_rate_limit: int
    ipv6_enabled: bool = True
    """Serve IPv6 viewers; IP-restricted signed URLs are refused by the client while on."""
    inline_content_types: tuple[str, ...] = ()
    """Media types private paths serve inline; every other type is sent as a download."""


@dataclass(frozen=True)
class AuditSettings:
    """Upload notifications and the CloudTrail data-event trail."""

    cloudtrail_enabled: bool
    cloudtrail_cloudwatch_logs: bool
    cloudtrail_log_retention_days: int
    notification_email: Optional[str]


@dataclass(frozen=True)
class AccessSettings:
    """The IAM roles (Lambda, EC2, uploader, tenant) and what they may do."""

    ec2_access_mode: str
    uploader_trusted_arns: tuple[str, ...]
    """Empty: this account's root (resolved by the program, which knows the account)."""
    uploader_external_id: str
    uploader_require_mfa: bool
    permissions_boundary_arn: Optional[str]
    max_session_duration_seconds: int
    tenant_broker_arns: tuple[str, ...] = ()
    """Roles/users that act for tenants: they may request any tenant's ``tenant_id`` tag on
    the uploader and tenant roles. Every other caller may request only its own tag."""
    offboarding_trusted_arns: tuple[str, ...] = ()
    """Principals that may assume the offboarding role (with MFA, untagged); empty: this
    account's root, i.e. any principal of the account allowed ``sts:AssumeRole`` on it."""


MALWARE_SCAN_MODES = ("auto", "enabled", "disabled")
"""``auto``: GuardDuty Malware Protection on in prod, off in dev (it is billed per GB scanned)."""
MAX_MALWARE_SCAN_PREFIXES = 5
"""A GuardDuty Malware Protection plan accepts at most five object prefixes."""
MAX_MALWARE_SCAN_PREFIX_CHARS = 1024
"""S3 object keys (so prefixes) are at most 1024 bytes."""
_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")


@dataclass(frozen=True)
class MalwareScanSettings:
    """GuardDuty Malware Protection for S3 on the data bucket, and the read gate on its tag."""

    enabled: bool = False
    object_prefixes: tuple[str, ...] = ()
    """Key prefixes scanned (and gated); empty: the whole bucket."""
    reviewer_role_arn: Optional[str] = None
    """The one role that may read objects whatever their scan status (to review quarantine)."""
    gate_backends: bool = True
    """The Lambda and EC2 roles read only clean objects too; False exempts them from the gate."""


@dataclass(frozen=True)
class StackSettings:
    """Everything ``__main__.py`` needs, validated."""

    project: str
    stack: str
    environment: str
    name_prefix: str
    protect: bool
    key: KeySettings
    storage: StorageSettings
    edge: EdgeSettings
    audit: AuditSettings
    access: AccessSettings
    malware_scan: MalwareScanSettings = MalwareScanSettings()

    @property
    def resource_prefix(self) -> str:
        """Prefix of every logical name and alias: ``<namePrefix>-<stack>``."""
        return f"{self.name_prefix}-{self.stack}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "project": self.project,
            "stack": self.stack,
            "environment": self.environment,
            "managed-by": "pulumi",
        }


# --- raw value readers: each names the key on failure --------------------------------


def _int(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key, DEFAULTS[key])
    if isinstance(value, bool):
        raise SettingsError(key, value, "an integer number of days")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise SettingsError(key, value, "an integer number of days") from None


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, DEFAULTS[key])
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise SettingsError(key, value, "true or false")


def _str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key, DEFAULTS[key])
    if not isinstance(value, str):
        raise SettingsError(key, value, "a string")
    return value


def _str_list(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, DEFAULTS[key])
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SettingsError(key, value, "a list of strings (YAML list or JSON array)") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(key, value, "a list of strings (YAML list or JSON array)")
    return tuple(value)


def _in_range(key: str, value: int, low: int, high: Optional[int], what: str) -> int:
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SettingsError(key, value, f"{what}: {bound}")
    return value


# --- rules ------------------------------------------------------------------------------


def _environment(raw: Mapping[str, Any]) -> str:
    value = _str(raw, "environment")
    if value not in ENVIRONMENTS:
        raise SettingsError("environment", value, f"one of {', '.join(ENVIRONMENTS)}")
    return value


def _name_prefix(raw: Mapping[str, Any]) -> str:
    value = _str(raw, "namePrefix")
    if not _NAME_PREFIX.match(value):
        raise SettingsError(
            "namePrefix",
            value,
            "3-25 characters of lowercase letters, digits and hyphens, starting with a "
            "letter and not ending with a hyphen (it becomes part of bucket names)",
        )
    return value


def _cors_origins(raw: Mapping[str, Any], environment: str) -> tuple[str, ...]:
    origins = _str_list(raw, "corsAllowedOrigins")
    for origin in origins:
        if origin.strip() == "*" or "*" in origin:
            raise SettingsError(
                "corsAllowedOrigins", origin, "exact origins only; wildcards let any site upload"
            )
        if _LOCAL_ORIGIN.match(origin):
            if environment == "prod":
                raise SettingsError(
                    "corsAllowedOrigins",
                    origin,
                    "https:// origins of real hosts only in prod (localhost is for dev)",
                )
            continue
        if not _HTTPS_ORIGIN.match(origin):
            raise SettingsError(
                "corsAllowedOrigins",
                origin,
                "https://host[:port] with no path (http:// only for localhost in dev)",
            )
    if len(set(origins)) != len(origins):
        raise SettingsError("corsAllowedOrigins", list(origins), "each origin once")
    return origins


def _lifecycle(raw: Mapping[str, Any]) -> LifecycleSettings:
    transition = _in_range(
        "transitionToIaDays",
        _int(raw, "transitionToIaDays"),
        MIN_STANDARD_IA_DAYS,
        None,
        "S3 moves objects to STANDARD_IA no earlier than 30 days",
    )
    expire = _int(raw, "expireAfterDays")
    if expire < 0:
        raise SettingsError("expireAfterDays", expire, "0 (never expire) or a positive number of days")
    if expire and expire <= transition:
        raise SettingsError(
            "expireAfterDays",
            expire,
            f"0 (never) or more days than transitionToIaDays ({transition}); "
            "objects cannot expire before they transition",
        )
    noncurrent = _in_range(
        "noncurrentVersionExpireDays",
        _int(raw, "noncurrentVersionExpireDays"),
        1,
        None,
        "days a replaced version is kept",
    )
    abort = _in_range(
        "abortIncompleteMultipartDays",
        _int(raw, "abortIncompleteMultipartDays"),
        1,
        None,
        "days before an unfinished multipart upload is aborted",
    )
    return LifecycleSettings(transition, expire, noncurrent, abort)


def _key(raw: Mapping[str, Any]) -> KeySettings:
    window = _in_range(
        "kmsDeletionWindowDays",
        _int(raw, "kmsDeletionWindowDays"),
        *KMS_DELETION_WINDOW_RANGE,
        "KMS pending-deletion window in days",
    )
    admins = _str_list(raw, "kmsAdminArns")
    for arn in admins:
        if not _IAM_PRINCIPAL_ARN.match(arn):
            raise SettingsError(
                "kmsAdminArns",
                arn,
                "IAM principal ARNs: arn:aws:iam::<12-digit account>:role/<name>, "
                ":user/<name> or :root",
            )
    algorithm = _str(raw, "sseAlgorithm")
    if algorithm == DSSE_KMS:
        # DSSE-KMS would need every writer to name it: the bucket policy denies uploads that
        # send another algorithm, and the presigner, the uploader and browsers send aws:kms.
        # S3 Bucket Keys are not supported with it either (one KMS call per object). Until
        # the clients learn the stack's algorithm, accepting it would break every upload.
        raise SettingsError(
            "sseAlgorithm",
            algorithm,
            "aws:kms only; aws:kms:dsse is not supported by this stack's clients (the presigner "
            "and the uploader send aws:kms, which the bucket policy would then deny) nor by S3 "
            "Bucket Keys",
        )
    if algorithm not in SSE_ALGORITHMS:
        raise SettingsError(
            "sseAlgorithm",
            algorithm,
            f"one of {', '.join(SSE_ALGORITHMS)} (a customer-managed KMS key is required)",
        )
    return KeySettings(window, admins, algorithm)


def _public_key_pem(raw: Mapping[str, Any], environment: str) -> Optional[str]:
    """A real RSA-2048 public key; a private key is refused so that none lands in config."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = _str(raw, "cloudfrontPublicKeyPem").strip()
    if "PRIVATE KEY" in pem:
        raise SettingsError(
            "cloudfrontPublicKeyPem",
            "<a private key, not shown>",
            "the PUBLIC key only; keep the private key in your signer's secret store",
        )
    allowed = (
        "an RSA 2048-bit public key in PEM (-----BEGIN PUBLIC KEY-----); it verifies "
        "signed URLs and cookies, so private paths cannot be served without it"
    )
    if not pem:
        if environment == "prod":
            raise SettingsError("cloudfrontPublicKeyPem", pem, f"required when environment is prod: {allowed}")
        return None
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError:
        raise SettingsError("cloudfrontPublicKeyPem", pem[:40] + "...", allowed) from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != CLOUDFRONT_KEY_BITS:
        raise SettingsError("cloudfrontPublicKeyPem", pem[:40] + "...", allowed)
    return pem + "\n"


def _edge(raw: Mapping[str, Any], environment: str) -> EdgeSettings:
    price_class = _str(raw, "cloudfrontPriceClass")
    if price_class not in PRICE_CLASSES:
        raise SettingsError("cloudfrontPriceClass", price_class, f"one of {', '.join(PRICE_CLASSES)}")
    geo_type = _str(raw, "geoRestrictionType")
    if geo_type not in GEO_RESTRICTION_TYPES:
        raise SettingsError(
            "geoRestrictionType", geo_type, f"one of {', '.join(GEO_RESTRICTION_TYPES)}"
        )
    locations = _str_list(raw, "geoRestrictionLocations")
    for code in locations:
        if not _COUNTRY_CODE.match(code):
            raise SettingsError(
                "geoRestrictionLocations", code, "ISO 3166-1 alpha-2 country codes such as DE"
            )
    if geo_type == "none" and locations:
        raise SettingsError(
            "geoRestrictionLocations", list(locations), "empty when geoRestrictionType is none"
        )
    if geo_type != "none" and not locations:
        raise SettingsError(
            "geoRestrictionLocations", [], f"at least one country when geoRestrictionType is {geo_type}"
        )
    domain = _str(raw, "customDomain").strip().lower() or None
    certificate = _str(raw, "acmCertificateArn").strip() or None
    if domain is not None and not _HOSTNAME.match(domain):
        raise SettingsError("customDomain", domain, "a DNS host name such as files.example.com, or empty")
    if certificate is not None and not _ACM_US_EAST_1_ARN.match(certificate):
        raise SettingsError(
            "acmCertificateArn",
            certificate,
            "an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there)",
        )
    if (domain is None) != (certificate is None):
        raise SettingsError(
            "acmCertificateArn" if domain else "customDomain",
            certificate if domain else domain,
            "customDomain and acmCertificateArn are set together or not at all",
        )
    waf_enabled = _bool(raw, "wafEnabled")
    if environment == "prod" and not waf_enabled:
        raise SettingsError("wafEnabled", waf_enabled, "true when environment is prod")
    public_key_pem = _public_key_pem(raw, environment)
    inline = tuple(t.strip().lower() for t in _str_list(raw, "inlineContentTypes"))
    for media in inline:
        if not _MEDIA_TYPE.fullmatch(media) or is_active(media):
            raise SettingsError("inlineContentTypes", media,
                                "media types without parameters that run no script (e.g. application/pdf, "
                                "image/png); never HTML, SVG, XML, JavaScript or CSS")
    return EdgeSettings(
        ipv6_enabled=_bool(raw, "cloudfrontIpv6Enabled"),
        inline_content_types=inline,
        public_key_pem=public_key_pem,
        price_class=price_class,
        geo_restriction_type=geo_type,
        geo_restriction_locations=locations,
        custom_domain=domain,
        acm_certificate_arn=certificate,
        waf_enabled=waf_enabled,
        waf_rate_limit=_in_range(
            "wafRateLimit",
            _int(raw, "wafRateLimit"),
            *WAF_RATE_LIMIT_RANGE,
            "requests per IP per 5 minutes",
        ),
    )


def _audit(raw: Mapping[str, Any], environment: str) -> AuditSettings:
    enabled = _bool(raw, "cloudTrailEnabled")
    if environment == "prod" and not enabled:
        raise SettingsError("cloudTrailEnabled", enabled, "true when environment is prod")
    retention = _int(raw, "cloudTrailLogRetentionDays")
    if retention not in CLOUDWATCH_RETENTION_DAYS:
        raise SettingsError(
            "cloudTrailLogRetentionDays",
            retention,
            f"one of the periods CloudWatch Logs accepts: {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}",
        )
    email = _str(raw, "notificationEmail").strip() or None
    if email is not None and not _EMAIL.match(email):
        raise SettingsError("notificationEmail", email, "one e-mail address, or empty for none")
    return AuditSettings(
        cloudtrail_enabled=enabled,
        cloudtrail_cloudwatch_logs=_bool(raw, "cloudTrailCloudWatchLogs"),
        cloudtrail_log_retention_days=retention,
        notification_email=email,
    )


EC2_ACCESS_MODES = ("read-only", "read-write")
ROLE_SESSION_SECONDS_RANGE = (3600, 43200)
"""IAM accepts a role maximum session duration of 1 to 12 hours."""
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9+=,.@:/_-]{2,1224}$")
_BROKER_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$")
_POLICY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]{1,512}$")


def _access(raw: Mapping[str, Any], environment: str, resource_prefix: str) -> AccessSettings:
    mode = _str(raw, "ec2AccessMode")
    if mode not in EC2_ACCESS_MODES:
        raise SettingsError("ec2AccessMode", mode, f"one of {', '.join(EC2_ACCESS_MODES)}")
    trusted = _str_list(raw, "uploaderTrustedPrincipalArns")
    for arn in trusted:
        if not _IAM_PRINCIPAL_ARN.match(arn):
            raise SettingsError(
                "uploaderTrustedPrincipalArns",
                arn,
                "exact IAM principal ARNs (no wildcards): arn:aws:iam::<12-digit account>:"
                "role/<name>, :user/<name> or :root",
            )
    brokers = _str_list(raw, "tenantBrokerPrincipalArns")
    for arn in brokers:
        if not _BROKER_ARN.match(arn):
            raise SettingsError(
                "tenantBrokerPrincipalArns",
                arn,
                "exact IAM role or user ARNs of the backends that act for tenants "
                "(arn:aws:iam::<12-digit account>:role/<name> or :user/<name>; no wildcards, "
                "no :root, which would make the whole account a broker)",
            )
    if len(set(brokers)) != len(brokers):
        raise SettingsError("tenantBrokerPrincipalArns", list(brokers), "each ARN once")
    external_id = _str(raw, "uploaderExternalId")
    if not external_id:
        if environment == "prod":
            raise SettingsError(
                "uploaderExternalId", external_id, "a unique external id in prod (2-1224 of [A-Za-z0-9+=,.@:/_-])"
            )
        external_id = f"{resource_prefix}-uploader"
    if not _EXTERNAL_ID.match(external_id):
        raise SettingsError("uploaderExternalId", external_id, "2-1224 characters of [A-Za-z0-9+=,.@:/_-]")
    boundary = _str(raw, "permissionsBoundaryArn")
    if boundary and not _POLICY_ARN.match(boundary):
        raise SettingsError(
            "permissionsBoundaryArn", boundary, "empty, or an IAM policy ARN arn:aws:iam::<account|aws>:policy/<name>"
        )
    offboarding = _str_list(raw, "offboardingTrustedPrincipalArns")
    for arn in offboarding:
        if not _IAM_PRINCIPAL_ARN.match(arn):
            raise SettingsError(
                "offboardingTrustedPrincipalArns",
                arn,
                "exact IAM principal ARNs (no wildcards): arn:aws:iam::<12-digit account>:"
                "role/<name>, :user/<name> or :root",
            )
    seconds = _in_range(
        "roleMaxSessionSeconds",
        _int(raw, "roleMaxSessionSeconds"),
        *ROLE_SESSION_SECONDS_RANGE,
        "maximum role session in seconds",
    )
    return AccessSettings(
        ec2_access_mode=mode,
        uploader_trusted_arns=trusted,
        uploader_external_id=external_id,
        uploader_require_mfa=_bool(raw, "uploaderRequireMfa"),
        permissions_boundary_arn=boundary or None,
        max_session_duration_seconds=seconds,
        tenant_broker_arns=brokers,
        offboarding_trusted_arns=offboarding,
    )


def _malware_scan(raw: Mapping[str, Any], environment: str) -> MalwareScanSettings:
    mode = _str(raw, "malwareScan")
    if mode not in MALWARE_SCAN_MODES:
        raise SettingsError(
            "malwareScan", mode, "auto (on in prod, off in dev), enabled or disabled"
        )
    prefixes = _str_list(raw, "malwareScanPrefixes")
    if len(prefixes) > MAX_MALWARE_SCAN_PREFIXES:
        raise SettingsError(
            "malwareScanPrefixes", list(prefixes), f"at most {MAX_MALWARE_SCAN_PREFIXES} prefixes (GuardDuty's limit)"
        )
    for prefix in prefixes:
        segments = prefix.split("/")
        if (
            not prefix
            or prefix.startswith("/")
            or any(c in prefix for c in "*?$")
            or any(s in (".", "..") for s in segments)
            or "" in segments[:-1]
            or len(prefix.encode()) > MAX_MALWARE_SCAN_PREFIX_CHARS
        ):
            raise SettingsError(
                "malwareScanPrefixes",
                prefix,
                "literal key prefixes such as uploads/ (no leading /, no wildcard or ${...}, no . or .. "
                f"or empty segment, at most {MAX_MALWARE_SCAN_PREFIX_CHARS} bytes); empty list: the whole bucket",
            )
    if len(set(prefixes)) != len(prefixes):
        raise SettingsError("malwareScanPrefixes", list(prefixes), "each prefix once")
    reviewer = _str(raw, "malwareScanReviewerRoleArn").strip()
    if reviewer and not _ROLE_ARN.match(reviewer):
        raise SettingsError(
            "malwareScanReviewerRoleArn",
            reviewer,
            "empty, or one exact IAM role ARN arn:aws:iam::<12-digit account>:role/<name> (no wildcard, "
            "no user or :root: it may read quarantined files)",
        )
    return MalwareScanSettings(
        enabled=mode == "enabled" or (mode == "auto" and environment == "prod"),
        object_prefixes=prefixes,
        reviewer_role_arn=reviewer or None,
        gate_backends=_bool(raw, "malwareScanGateBackends"),
    )


INVENTORY_FORMATS = ("CSV", "Parquet")
"""S3 Inventory output formats the usage reader reads (ORC is not read, so not offered)."""


def _inventory_format(raw: Mapping[str, Any]) -> Optional[str]:
    """``inventoryFormat``: CSV, Parquet, or off (no inventory)."""
    value = _str(raw, "inventoryFormat")
    if value == "off":
        return None
    if value not in INVENTORY_FORMATS:
        raise SettingsError("inventoryFormat", value, f"one of {', '.join(INVENTORY_FORMATS)} or off")
    return value


class StackNameError(SettingsError):
    """The stack name (not a config key) cannot be part of resource names."""

    def __init__(self, stack: str, allowed: str) -> None:
        ValueError.__init__(self, f"stack name {stack!r} is not allowed: {allowed}")
        self.key = "stack"
        self.value = stack
        self.allowed = allowed


def _stack_name(stack: str, name_prefix: str) -> str:
    """The stack name is in every resource name (``<namePrefix>-<stack>-...``), so it must
    be valid in bucket names: lowercase letters, digits, inner hyphens, and short enough."""
    if not _STACK_NAME.match(stack):
        raise StackNameError(
            stack,
            "lowercase letters, digits and hyphens, starting with a letter and not ending with a "
            "hyphen (it becomes part of every resource and bucket name)",
        )
    prefix = f"{name_prefix}-{stack}"
    if len(prefix) > MAX_RESOURCE_PREFIX_CHARS:
        raise StackNameError(
            stack,
            f"'<namePrefix>-<stack>' ({prefix!r}, {len(prefix)} characters) must have at most "
            f"{MAX_RESOURCE_PREFIX_CHARS}: bucket names are limited to 63 characters",
        )
    return stack


def parse(raw: Mapping[str, Any], *, project: str, stack: str) -> StackSettings:
    """Validate raw config (keys without namespace; strings or already-typed values)."""
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise SettingsError(
            unknown[0], raw[unknown[0]], f"a known key; this program reads {', '.join(sorted(DEFAULTS))}"
        )
    _stack_name(stack, _name_prefix(raw))
    environment = _environment(raw)
    protect = _bool(raw, "protect")
    force_destroy = _bool(raw, "forceDestroy")
    if environment == "prod" and not protect:
        raise SettingsError("protect", protect, "true when environment is prod")
    if environment == "prod" and force_destroy:
        raise SettingsError("forceDestroy", force_destroy, "false when environment is prod")
    settings = StackSettings(
        project=project,
        stack=stack,
        environment=environment,
        name_prefix=_name_prefix(raw),
        protect=protect,
        key=_key(raw),
        storage=StorageSettings(
            cors_allowed_origins=_cors_origins(raw, environment),
            lifecycle=_lifecycle(raw),
            log_retention_days=_in_range(
                "logRetentionDays", _int(raw, "logRetentionDays"), 1, None, "days access logs are kept"
            ),
            force_destroy=force_destroy,
            inventory_format=_inventory_format(raw),
        ),
        edge=_edge(raw, environment),
        audit=_audit(raw, environment),
        access=_access(raw, environment, f"{_name_prefix(raw)}-{stack}"),
        malware_scan=_malware_scan(raw, environment),
    )
    _check_policy_sizes(settings)
    _check_prod_certificate(raw, settings)
    return settings


def _check_prod_certificate(raw: Mapping[str, Any], settings: StackSettings) -> None:
    """Prod serves private files only on its own domain, unless explicitly opted out.
    Checked last, so that every other key's error is reported first."""
    environment, domain = settings.environment, settings.edge.custom_domain
    if environment == "prod" and domain is None and not _bool(raw, "allowDefaultCertificateInProd"):
        raise SettingsError(
            "customDomain",
            "",
            "a DNS name with acmCertificateArn when environment is prod: the default "
            "*.cloudfront.net certificate lets viewers negotiate TLS 1.0 and cannot carry signed "
            "cookies for your domain; set allowDefaultCertificateInProd: true to accept that",
        )


TRUST_POLICY_MAX_CHARS = 2048
"""IAM's default quota for a role trust policy (whitespace not counted); raisable to 4096."""
KEY_POLICY_MAX_BYTES = 32 * 1024
"""AWS KMS key policies are at most 32 KB."""
_WORST_ACCOUNT = "123456789012"
_WORST_PARTITION = "aws-us-gov"
_WORST_REGION = "ap-southeast-5"
_WORST_SUFFIX = "-1234567"
"""Placeholders at least as long as any real value: the estimate is never below the truth."""


def _compact_size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def estimated_policy_sizes(settings: StackSettings) -> dict[str, int]:
    """Upper bounds of the rendered trust and key policies' sizes, before any resource
    exists: the same builders the components call, with every ARN the program would only
    learn later replaced by a placeholder at least as long."""
    from . import audit_policies, edge_policies, key_policies, role_policies

    prefix = settings.resource_prefix
    role = lambda name: f"arn:{_WORST_PARTITION}:iam::{_WORST_ACCOUNT}:role/{prefix}-access-{name}{_WORST_SUFFIX}"  # noqa: E731
    access = settings.access
    trusted = list(access.uploader_trusted_arns) or [f"arn:{_WORST_PARTITION}:iam::{_WORST_ACCOUNT}:root"]
    uploader = role_policies.uploader_trust_policy(
        trusted, access.uploader_external_id, access.uploader_require_mfa, access.tenant_broker_arns
    )
    tenant = role_policies.tenant_role_trust_policy([role("lambda"), role("ec2")], access.tenant_broker_arns)
    distribution = f"arn:aws:cloudfront::{_WORST_ACCOUNT}:distribution/E1234567890ABCDEFGHI"
    bucket = f"arn:{_WORST_PARTITION}:s3:::{prefix}-storage-data{_WORST_SUFFIX}"
    workloads = [role(name) for name in ("lambda", "ec2", "uploader", "tenant")]
    data_key = key_policies.key_policy(
        account_id=_WORST_ACCOUNT, region=_WORST_REGION, partition=_WORST_PARTITION,
        admin_arns=settings.key.admin_arns, bucket_arn=bucket,
        extra_statements=[
            edge_policies.cloudfront_decrypt_statement(distribution_arn=distribution),
            *key_policies.data_key_isolation_statements(
                bucket_arn=bucket, region=_WORST_REGION, workload_role_arns=workloads[:3],
                read_only_role_arns=workloads[3:]),
        ],
    )
    audit_name = f"{prefix}-audit"
    audit_key = audit_policies.audit_key_policy(
        account_id=_WORST_ACCOUNT, region=_WORST_REGION, partition=_WORST_PARTITION,
        admin_arns=settings.key.admin_arns,
        topic_arn=audit_policies.topic_arn(_WORST_REGION, _WORST_ACCOUNT, f"{audit_name}-object-created", _WORST_PARTITION),
        trail_arn=audit_policies.trail_arn(_WORST_REGION, _WORST_ACCOUNT, f"{audit_name}-data-events", _WORST_PARTITION),
        log_group_arn=audit_policies.log_group_arn(_WORST_REGION, _WORST_ACCOUNT, f"/aws/cloudtrail/{audit_name}", _WORST_PARTITION),
        workload_role_arns=workloads,
    )
    return {
        "uploader trust": _compact_size(uploader),
        "tenant trust": _compact_size(tenant),
        "data key policy": _compact_size(data_key),
        "audit key policy": _compact_size(audit_key),
    }


def _check_policy_sizes(settings: StackSettings) -> None:
    """Refuse, naming the key that made it long, a document AWS would reject at deploy."""
    sizes = estimated_policy_sizes(settings)
    access = settings.access
    uploader_key = (
        "tenantBrokerPrincipalArns"
        if sum(map(len, access.tenant_broker_arns)) > sum(map(len, access.uploader_trusted_arns))
        else "uploaderTrustedPrincipalArns"
    )
    for document, key in (("uploader trust", uploader_key), ("tenant trust", "tenantBrokerPrincipalArns")):
        if sizes[document] > TRUST_POLICY_MAX_CHARS:
            value = access.tenant_broker_arns if key == "tenantBrokerPrincipalArns" else access.uploader_trusted_arns
            raise SettingsError(
                key,
                f"<{len(value)} ARNs>",
                f"fewer ARNs: the {document} policy would have about {sizes[document]} characters, "
                f"over IAM's {TRUST_POLICY_MAX_CHARS}-character limit for trust policies",
            )
    for document in ("data key policy", "audit key policy"):
        if sizes[document] > KEY_POLICY_MAX_BYTES:
            raise SettingsError(
                "kmsAdminArns",
                f"<{len(settings.key.admin_arns)} ARNs>",
                f"fewer ARNs: the {document} would have about {sizes[document]} bytes, over KMS's "
                f"{KEY_POLICY_MAX_BYTES}-byte limit",
            )


KNOWN_NAMESPACES = ("aws", "pulumi")
"""Config namespaces other than this project's that a stack may set: the provider the program
configures (``aws:region``) and Pulumi's own (``pulumi:tags``...)."""


class ForeignNamespaceError(SettingsError):
    """A config key in a namespace nothing reads (``securestor:environment``): its value would be
    silently ignored, e.g. a prod stack previewed with the dev defaults."""

    def __init__(self, key: str, value: Any) -> None:
        namespaces = ", ".join(f"'{n}:'" for n in (NAMESPACE, *KNOWN_NAMESPACES))
        ValueError.__init__(self, f"config {key} = {value!r} is in namespace {key.split(':', 1)[0]!r}, "
                            f"which nothing reads: use {namespaces}")
        self.key, self.value, self.allowed = key, value, namespaces


def check_namespaces(keys: Mapping[str, Any]) -> None:
    """Refuse a full config key (``ns:key``) whose namespace is neither ours nor a known one."""
    for key in sorted(keys):
        if key.split(":", 1)[0] not in (NAMESPACE, *KNOWN_NAMESPACES):
            raise ForeignNamespaceError(key, keys[key])


def _namespace_keys() -> dict[str, Any]:
    """Every ``securestore:*`` key the engine passed, so that a misspelt key is caught; a key in
    a namespace nothing reads is refused (``check_namespaces``)."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = {}
    merged.update(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    check_namespaces(merged)
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}


def load(read_keys: Callable[[], Mapping[str, Any]] = _namespace_keys) -> StackSettings:
    """Read this stack's config from the Pulumi engine once and validate it."""
    import pulumi

    return parse(read_keys(), project=pulumi.get_project(), stack=pulumi.get_stack())
