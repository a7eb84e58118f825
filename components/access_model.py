"""The declared access model: who may do what to each store of the stack, as data.

Everything else is derived from this table, never written a second time: the tenant
permissions boundary (``boundary_policies``), the generated attacker matrix
(``tests/access/generated.py``: every resource of the graph x every IAM action of its type x
every attacker profile is compared with ``allowed``), the README's isolation table
(``markdown_table``, checked by a test) and the policy pack's expectations.

Reading it: ``MODEL[resource][principal]`` lists the ``Grant``s of that principal class on
that resource; a principal class or an action that is not listed is refused. Scopes say
where inside a bucket a grant holds (``OWN_PREFIX``: ``<tenant_id>/`` of the caller's own
``tenant_id`` tag); ``via="s3"`` means only when S3 calls KMS on the caller's behalf for the
data bucket (``kms:ViaService`` and ``kms:EncryptionContext:aws:s3:arn``), never directly.

A tenant session is any session that carries a ``tenant_id`` principal tag, whatever role or
policy it holds: the grants below are a ceiling that resource-policy denies and the stack's
permissions boundary enforce, not just what the tenant role is given today.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Mapping, Optional

# --- principal classes -------------------------------------------------------------------

TENANT = "tenant-session"
UPLOADER = "uploader"
BACKEND = "backend"
BACKEND_READ_ONLY = "backend-read-only"
CLOUDFRONT = "cloudfront"
S3_LOGGING = "s3-server-access-logging"
LOG_DELIVERY = "cloudfront-log-delivery"
CLOUDTRAIL = "cloudtrail"
S3_NOTIFICATIONS = "s3-event-notifications"
CLOUDWATCH_LOGS = "cloudwatch-logs"
MALWARE_SCANNER = "malware-scanner"
S3_INVENTORY = "s3-inventory"
OFFBOARDING = "offboarding"
ADMIN = "administrator"

PRINCIPALS: dict[str, str] = {
    TENANT: "any session carrying a tenant_id tag (tenant role, uploader role, a tagged user), "
            "whatever identity policy it is given later",
    UPLOADER: "the uploader role's sessions (tagged tenant_id): a subset of tenant-session",
    BACKEND: "the Lambda role, and the EC2 role in read-write mode (untagged)",
    BACKEND_READ_ONLY: "the EC2 role in read-only mode (untagged)",
    CLOUDFRONT: "CloudFront, for this stack's distribution only (aws:SourceArn)",
    S3_LOGGING: "S3 server access logging, for this stack's data and trail buckets only",
    LOG_DELIVERY: "CloudWatch log delivery of this distribution's standard logs",
    CLOUDTRAIL: "CloudTrail, for this stack's trail only",
    S3_NOTIFICATIONS: "S3 publishing the data bucket's ObjectCreated events",
    CLOUDWATCH_LOGS: "CloudWatch Logs encrypting the trail's log group",
    MALWARE_SCANNER: "GuardDuty Malware Protection's role (malwareScan on): reads objects to scan "
                     "them and is the only writer of the GuardDutyMalwareScanStatus tag",
    S3_INVENTORY: "S3 Inventory writing the data bucket's daily report (aws:SourceArn, aws:SourceAccount)",
    OFFBOARDING: "the offboarding role's sessions (`securestore tenant erase|export`): assumed with "
                 "MFA, never by a tenant_id-tagged principal, never tagged itself",
    ADMIN: "untagged principals of the account that are not workload roles "
           "(account root, configured key admins, operators)",
}
"""Every principal class; anyone not in one of them (another account, anonymous, another
CloudFront distribution, another bucket's logging) is refused everything."""

TAGGED_CLASSES = frozenset({TENANT, UPLOADER})
WORKLOAD_CLASSES = frozenset({TENANT, UPLOADER, BACKEND, BACKEND_READ_ONLY})
"""Role sessions that run application code: none of them may administer a key."""

SERVICE_PRINCIPALS: dict[str, str] = {
    CLOUDFRONT: "cloudfront.amazonaws.com",
    S3_LOGGING: "logging.s3.amazonaws.com",
    LOG_DELIVERY: "delivery.logs.amazonaws.com",
    CLOUDTRAIL: "cloudtrail.amazonaws.com",
    S3_NOTIFICATIONS: "s3.amazonaws.com",
    CLOUDWATCH_LOGS: "logs.{region}.amazonaws.com",
    S3_INVENTORY: "s3.amazonaws.com",
}

# --- resources ---------------------------------------------------------------------------

DATA_BUCKET = "data-bucket"
LOG_BUCKET = "log-bucket"
TRAIL_BUCKET = "trail-bucket"
DATA_KEY = "data-key"
AUDIT_KEY = "audit-key"
TOPIC = "upload-topic"
LOG_GROUP = "trail-log-group"
DISTRIBUTION = "distribution"
TENANT_ROLE = "tenant-role"
STACK_ROLES = "stack-roles"
OTHER = "other-stack-resources"

RESOURCES: dict[str, str] = {
    DATA_BUCKET: "the data bucket and its objects (every tenant's files)",
    LOG_BUCKET: "S3 and CloudFront access logs (every tenant's keys and replayable signed URLs)",
    TRAIL_BUCKET: "CloudTrail log files (every data event, every tenant)",
    DATA_KEY: "the KMS key of the data bucket",
    AUDIT_KEY: "the KMS key of the topic, the trail and its log group",
    TOPIC: "the ObjectCreated topic (every tenant's new keys)",
    LOG_GROUP: "the trail's CloudWatch Logs group",
    DISTRIBUTION: "the CloudFront distribution and its configuration",
    TENANT_ROLE: "the tenant role (assuming it with a tenant_id tag opens that tenant's prefix)",
    STACK_ROLES: "the stack's other IAM roles (passing or assuming one is taking its rights)",
    OTHER: "every other resource of the stack (aliases, functions, policies, WAF, ...)",
}

# --- scopes and action sets --------------------------------------------------------------

ANY = "any"
OWN_PREFIX = "own-tenant-prefix"
"""``<tenant_id>/`` of the caller's own tag: object keys under it, list prefixes under it."""
ANY_TENANT_PREFIX = "any-tenant-prefix"
"""Keys under some ``<segment>/`` other than ``public/`` (IAM: ``bucket/*/*`` less a deny of
``bucket/public/*``): every tenant's files, not the public assets nor root-level keys."""


def prefix(path: str) -> str:
    """Scope: object keys under ``path`` (e.g. ``cloudfront/``)."""
    return f"prefix:{path}"


SCAN_STATUS_ACTIONS = ("s3:GetObjectTagging", "s3:GetObjectVersionTagging")
"""Reading an object's tags: the malware-scan verdict (``GuardDutyMalwareScanStatus``), which a
client reads to wait for a scan and to say why a download of a quarantined object is refused."""
READ_OBJECT_ACTIONS = tuple(sorted((
    "s3:GetObject",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAttributes",
) + SCAN_STATUS_ACTIONS))
"""What a download needs: GET/HEAD pinned to the version it saw (``GetObjectVersion``), and the
part layout of an object another tool uploaded in parts, to verify its composite checksum
(``GetObject(Version)Attributes``); ``tests/access/test_access_matrix.py`` records the requests; the
scan verdict (``SCAN_STATUS_ACTIONS``) when a read is refused."""
TENANT_OBJECT_ACTIONS = tuple(sorted(READ_OBJECT_ACTIONS + (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)))
UPLOAD_ACTIONS = tuple(sorted(("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject")
                             + SCAN_STATUS_ACTIONS))
"""The uploader also reads the scan verdict of what it uploaded (``upload --wait-for-scan``)."""
BACKEND_OBJECT_ACTIONS = TENANT_OBJECT_ACTIONS
KMS_VIA_S3_WRITE = ("kms:Decrypt", "kms:GenerateDataKey")
KMS_VIA_S3_READ = ("kms:Decrypt",)
EVERYTHING = ("*",)
SCANNER_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
)
"""GuardDuty's documented scan-and-tag permissions (components/scan_gate_policies.py)."""
SCANNER_BUCKET_ACTIONS = ("s3:GetBucketNotification", "s3:ListBucket", "s3:PutBucketNotification")
SCANNER_VALIDATION_OBJECT = "malware-protection-resource-validation-object"
OFFBOARDING_OBJECT_ACTIONS = tuple(sorted(READ_OBJECT_ACTIONS + (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:ListMultipartUploadParts",
)))
"""Erase every version and open upload of a tenant, read its lock state, export it. Never
``s3:BypassGovernanceRetention``, ``s3:PutObject*`` or any bucket-level change."""
OFFBOARDING_BUCKET_ACTIONS = (
    "s3:GetBucketObjectLockConfiguration",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
)
"""Listing versions, delete markers and uploads, and whether the bucket has Object Lock."""


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    """IAM action names; a trailing ``*`` as in IAM (``kms:GenerateDataKey*``); ``"*"``: all."""
    scope: str = ANY
    """``ANY``, ``OWN_PREFIX`` or ``prefix(path)``: which objects (or list prefixes)."""
    via: Optional[str] = None
    """``"s3"``: only when S3 uses the key for the data bucket on the caller's behalf."""


def _admin() -> dict[str, tuple[Grant, ...]]:
    return {ADMIN: (Grant(EVERYTHING),)}


MODEL: dict[str, dict[str, tuple[Grant, ...]]] = {
    DATA_BUCKET: {
        TENANT: (Grant(TENANT_OBJECT_ACTIONS, OWN_PREFIX), Grant(("s3:ListBucket",), OWN_PREFIX)),
        UPLOADER: (Grant(UPLOAD_ACTIONS, OWN_PREFIX),),
        BACKEND: (Grant(BACKEND_OBJECT_ACTIONS), Grant(("s3:ListBucket",))),
        BACKEND_READ_ONLY: (Grant(READ_OBJECT_ACTIONS), Grant(("s3:ListBucket",))),
        CLOUDFRONT: (Grant(("s3:GetObject",)),),
        MALWARE_SCANNER: (Grant(SCANNER_OBJECT_ACTIONS), Grant(SCANNER_BUCKET_ACTIONS),
                          Grant(("s3:PutObject",), prefix(SCANNER_VALIDATION_OBJECT))),
        OFFBOARDING: (Grant(OFFBOARDING_OBJECT_ACTIONS, ANY_TENANT_PREFIX), Grant(OFFBOARDING_BUCKET_ACTIONS)),
        **_admin(),
    },
    LOG_BUCKET: {
        S3_LOGGING: (Grant(("s3:PutObject",), prefix("s3-access/")),
                     Grant(("s3:PutObject",), prefix("s3-access-trail/"))),
        LOG_DELIVERY: (Grant(("s3:PutObject",), prefix("cloudfront/")),),
        S3_INVENTORY: (Grant(("s3:PutObject",), prefix("inventory/")),),
        OFFBOARDING: (Grant(("s3:GetObject",), prefix("inventory/")), Grant(("s3:ListBucket",), prefix("inventory/"))),
        **_admin(),
    },
    TRAIL_BUCKET: {
        CLOUDTRAIL: (Grant(("s3:GetBucketAcl",)), Grant(("s3:PutObject",), prefix("AWSLogs/"))),
        **_admin(),
    },
    DATA_KEY: {
        TENANT: (Grant(KMS_VIA_S3_WRITE, via="s3"),),
        UPLOADER: (Grant(KMS_VIA_S3_WRITE, via="s3"),),
        BACKEND: (Grant(KMS_VIA_S3_WRITE, via="s3"),),
        BACKEND_READ_ONLY: (Grant(KMS_VIA_S3_READ, via="s3"),),
        CLOUDFRONT: (Grant(("kms:Decrypt",)),),
        MALWARE_SCANNER: (Grant(KMS_VIA_S3_WRITE, via="s3"),),
        OFFBOARDING: (Grant(KMS_VIA_S3_READ, via="s3"),),
        **_admin(),
    },
    AUDIT_KEY: {
        CLOUDTRAIL: (Grant(("kms:GenerateDataKey*", "kms:DescribeKey")),),
        S3_NOTIFICATIONS: (Grant(("kms:GenerateDataKey*", "kms:Decrypt")),),
        CLOUDWATCH_LOGS: (Grant(("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                                 "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext")),),
        **_admin(),
    },
    TOPIC: {
        S3_NOTIFICATIONS: (Grant(("sns:Publish",)),),
        **_admin(),
    },
    LOG_GROUP: {
        CLOUDTRAIL: (Grant(("logs:CreateLogStream", "logs:PutLogEvents")),),
        **_admin(),
    },
    DISTRIBUTION: _admin(),
    TENANT_ROLE: {
        BACKEND: (Grant(("sts:AssumeRole", "sts:TagSession")),),
        **_admin(),
    },
    STACK_ROLES: {
        CLOUDTRAIL: (Grant(("sts:AssumeRole",)),),
        **_admin(),
    },
    OTHER: _admin(),
}
"""``MODEL[resource][principal class]``: the grants; absent means refused.

Backends assume only the tenant role, always with a valid ``tenant_id`` tag. CloudTrail
assumes the trail's log-delivery role (``audit_policies.trail_logs_role_trust``: CloudTrail
sends no source to pin it to); no other stack role is assumable by a service here. The uploader and tenant roles are also assumed by the
principals the trusts name (configured brokers, tagged callers of their own tenant): those
are principals outside the stack and therefore not a class here."""


def grants(resource: str, principal: str) -> tuple[Grant, ...]:
    """The grants of ``principal`` on ``resource`` (empty: refused everything)."""
    return MODEL.get(resource, {}).get(principal, ())


def _in_scope(scope: str, key: Optional[str], tenant: Optional[str]) -> bool:
    if scope == ANY:
        return True
    if key is None:
        return False
    if scope == OWN_PREFIX:
        return bool(tenant) and key.startswith(f"{tenant}/")
    if scope == ANY_TENANT_PREFIX:
        return "/" in key and not key.startswith("public/")
    return key.startswith(scope.removeprefix("prefix:"))


def allowed(resource: str, principal: str, action: str, *, key: Optional[str] = None,
            tenant: Optional[str] = None, via: Optional[str] = None) -> bool:
    """Does the model let ``principal`` do ``action`` on ``resource``?

    ``key``: the object key (or list prefix) for bucket cells, None for the bucket itself
    (then a scoped grant holds only for listing with a prefix, given as ``key``);
    ``tenant``: the caller's ``tenant_id`` tag; ``via``: ``"s3"`` when S3 calls KMS for the
    data bucket on the caller's behalf, None for a direct call.
    """
    for grant in grants(resource, principal):
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in grant.actions):
            continue
        if grant.via is not None and grant.via != via:
            continue
        if _in_scope(grant.scope, key, tenant):
            return True
    return False


def actions_of(resource: str, principal: str) -> tuple[str, ...]:
    """Every action name a class is granted on a resource (sorted, for documents)."""
    return tuple(sorted({a for g in grants(resource, principal) for a in g.actions}))


def _describe(grant: Grant) -> str:
    actions = "everything" if grant.actions == EVERYTHING else ", ".join(f"`{a}`" for a in grant.actions)
    where = {ANY: "", OWN_PREFIX: " under own `<tenant_id>/`", ANY_TENANT_PREFIX: " under any `<tenant_id>/`"}.get(grant.scope, f" under `{grant.scope.removeprefix('prefix:')}`")
    how = " (only through S3, for the data bucket)" if grant.via == "s3" else ""
    return f"{actions}{where}{how}"


def markdown_table(model: Mapping[str, Mapping[str, tuple[Grant, ...]]] = MODEL) -> str:
    """The README's isolation table: one row per store, each class granted anything there
    with what it may do; every class not named (tenant sessions included) is refused."""
    lines = ["| store | who may do what (every other principal is refused) |", "|---|---|"]
    for resource, row in model.items():
        grants_text = "<br>".join(f"**{klass}**: " + "; ".join(_describe(g) for g in row[klass])
                                  for klass in PRINCIPALS if klass in row)
        lines.append(f"| `{resource}`: {RESOURCES[resource]} | {grants_text} |")
    return "\n".join(lines)
