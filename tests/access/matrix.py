"""The access matrix: callers x operations x keys x transport x encryption headers.

Each cell is one S3 API request. ``checks_for`` turns it into the authorisations AWS makes:
the S3 action on the object (or bucket) ARN under the data bucket's policy, and, when S3
uses our key on the caller's behalf, the KMS action under the key policy with
``kms:ViaService``. The expected outcome of every cell is written in the test module.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator, Optional

from .evaluator import Caller, Check
from .s3_actions import BUCKET_WRITE_ACTIONS, OBJECT_ACTIONS
from .stack_access import StackAccess

OTHER_ACCOUNT = "210987654321"
OTHER_ACCOUNT_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/foreign-admin"

TENANT_KEYS = (
    "acme/invoices/2026/01/31/po-1.pdf",
    "globex/invoices/2026/01/31/po-2.pdf",
    "public/logo.png",
    "readme.txt",
    "",
    "acme",
    "acme-evil/x",
    "acme/../globex/x",
    "acme/../public/evil.html",
    "acme//x",
    "ACME/x",
)
"""Keys (or, for list, prefixes). ``""`` is the bucket root: a listing without a prefix;
object operations skip it (S3 has no empty key). ``acme/../globex/x`` is a literal key
under ``acme/`` (S3 does not resolve dots); ``ACME/x`` differs from ``acme/`` by case.
The dot- and empty-segment keys are the ones CloudFront would normalize onto another path
(``/acme/%2e%2e/public/evil.html`` matches ``public/*``): nobody may write them."""


def has_dot_or_empty_segment(key: str) -> bool:
    """``.``/``..`` as a whole segment, or an empty segment (``//``, a leading ``/``)."""
    segments = key.split("/")
    return any(s in (".", "..") for s in segments) or "" in segments[:-1]

OBJECT_OPERATIONS = {
    # operation: (s3 action, KMS actions S3 performs with the caller's permissions, SSE headers?)
    "get": ("s3:GetObject", ("kms:Decrypt",), False),
    "get-version": ("s3:GetObjectVersion", ("kms:Decrypt",), False),
    "get-attributes": ("s3:GetObjectAttributes", (), False),
    "get-version-attributes": ("s3:GetObjectVersionAttributes", (), False),
    "put": ("s3:PutObject", ("kms:GenerateDataKey",), True),
    "delete": ("s3:DeleteObject", (), False),
    "mpu-create": ("s3:PutObject", ("kms:GenerateDataKey",), True),
    "mpu-upload-part": ("s3:PutObject", ("kms:Decrypt",), False),
    "mpu-complete": ("s3:PutObject", ("kms:Decrypt",), False),
    "mpu-abort": ("s3:AbortMultipartUpload", (), False),
    "mpu-list-parts": ("s3:ListMultipartUploadParts", (), False),
    "delete-version": ("s3:DeleteObjectVersion", (), False),
}
"""S3 authorises CreateMultipartUpload, UploadPart and CompleteMultipartUpload as
s3:PutObject. A download (``securestore download``) makes HeadObject and ranged GetObject
pinned to the version it saw (s3:GetObjectVersion in a versioned bucket) and, for an object
another tool uploaded in parts, GetObjectAttributes for the part layout of that version
(s3:GetObjectVersionAttributes): the ``get-*`` rows. For SSE-KMS, S3 generates the data key at create and decrypts it for every
part and at completion, with the caller's KMS permissions."""
OPERATIONS = tuple(OBJECT_OPERATIONS) + ("list",)
BUCKET_OPERATION = "bucket:"
"""``bucket:<Action>``: a bucket-level action (resource: the bucket ARN) from AWS's list."""
OBJECT_ATTACK_OPERATION = "object:"
"""``object:<Action>``: any object-level action (resource: the object ARN) from AWS's list."""
ATTACK_KEYS = ("acme/x", "globex/x", "public/x", "acme-evil/x", "ACME/x")
ATTACKERS = ("tenant-acme-s3-star", "tenant-acme-star")
"""Tenant sessions (tagged acme) that were later given ``s3:*`` / ``*`` on ``*``."""

TRANSPORTS = {
    "tls1.3": {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"},
    "tls1.1": {"aws:SecureTransport": "true", "s3:TlsVersion": "1.1"},
    "http": {"aws:SecureTransport": "false"},
}

ENCRYPTION_HEADERS = ("default", "right-key", "kms-without-key", "wrong-algorithm", "wrong-key", "sse-c")
"""default: no header (bucket default, our key); right-key: algorithm + our key ARN;
kms-without-key: the algorithm alone (S3 would then use the AWS managed aws/s3 key);
wrong-algorithm: AES256 (SSE-S3); wrong-key: aws:kms with another key; sse-c: customer key."""


@dataclass(frozen=True)
class Cell:
    caller: str
    operation: str
    key: str
    transport: str
    encryption: Optional[str]
    scan_status: Optional[str] = "NO_THREATS_FOUND"
    """The ``GuardDutyMalwareScanStatus`` tag of the object acted on (None: no tag, not
    scanned yet). The base matrix acts on objects already scanned clean."""
    request_tag_keys: tuple[str, ...] = ()
    """Tag keys the request itself carries (``x-amz-tagging``, PutObjectTagging's set)."""

    def __str__(self) -> str:
        extra = f" sse={self.encryption}" if self.encryption else ""
        if self.scan_status != "NO_THREATS_FOUND":
            extra += f" tag={self.scan_status or 'none'}"
        if self.request_tag_keys:
            extra += f" request-tags={','.join(self.request_tag_keys)}"
        return f"{self.caller} {self.operation} {self.key!r} over {self.transport}{extra}"


def object_tags(cell: Cell) -> dict:
    """The object's existing scan tag and the request's tag keys, as S3's condition keys."""
    context: dict = {}
    if cell.scan_status is not None:
        context["s3:ExistingObjectTag/GuardDutyMalwareScanStatus"] = cell.scan_status
    if cell.request_tag_keys:
        context["s3:RequestObjectTagKeys"] = list(cell.request_tag_keys)
    return context


FOREIGN_ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"},
    ],
}
"""The worst identity policy another account can give its own principal."""

S3_STAR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
STAR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
"""Over-broad identity policies attached later to the tenant role (the attacker rows)."""


def callers(access: StackAccess) -> dict[str, Caller]:
    roles = access.roles

    def role_session(name: str, role: str, tags: dict) -> Caller:
        document = roles[role]
        return Caller(name, access.account, document.arn, document.identity, {**document.tags, **tags})

    return {
        "lambda": role_session("lambda", "lambda", {}),
        "ec2": role_session("ec2", "ec2", {}),
        "uploader-acme": role_session("uploader-acme", "uploader", {"tenant_id": "acme"}),
        "tenant-acme": role_session("tenant-acme", "tenant", {"tenant_id": "acme"}),
        "tenant-globex": role_session("tenant-globex", "tenant", {"tenant_id": "globex"}),
        "managed-policy": Caller(
            "managed-policy", access.account, f"arn:aws:iam::{access.account}:role/app-worker",
            (access.managed_policy,),
        ),
        "other-account": Caller(
            "other-account", OTHER_ACCOUNT, OTHER_ACCOUNT_ROLE, (FOREIGN_ADMIN_POLICY,), {"tenant_id": "acme"}
        ),
        "anonymous": Caller("anonymous", anonymous=True),
        "offboarding": role_session("offboarding", "offboarding", {}),
        "tenant-acme-s3-star": with_policy(role_session("tenant-acme-s3-star", "tenant", {"tenant_id": "acme"}), S3_STAR_POLICY),
        "tenant-acme-star": with_policy(role_session("tenant-acme-star", "tenant", {"tenant_id": "acme"}), STAR_POLICY),
    }


def with_policy(caller: Caller, document: dict) -> Caller:
    return Caller(caller.name, caller.account, caller.arn, caller.identity + (document,), caller.tags)


def cells(caller_names) -> Iterator[Cell]:
    for caller, operation, key, transport in itertools.product(caller_names, OPERATIONS, TENANT_KEYS, TRANSPORTS):
        if operation != "list" and key == "":
            continue
        if operation in OBJECT_OPERATIONS and OBJECT_OPERATIONS[operation][2]:
            for encryption in ENCRYPTION_HEADERS:
                yield Cell(caller, operation, key, transport, encryption)
        else:
            yield Cell(caller, operation, key, transport, None)
    yield from attack_cells(caller_names)


def attack_cells(caller_names) -> Iterator[Cell]:
    """The attacker rows: every bucket-level Put*/Delete* action for every caller, and every
    object-level action on own and foreign keys for the over-broad tenant sessions."""
    for caller in caller_names:
        for action in BUCKET_WRITE_ACTIONS:
            yield Cell(caller, BUCKET_OPERATION + action, "", "tls1.3", None)
        if caller in ATTACKERS:
            for action, key in itertools.product(OBJECT_ACTIONS, ATTACK_KEYS):
                yield Cell(caller, OBJECT_ATTACK_OPERATION + action, key, "tls1.3", None)


def _encryption_context(access: StackAccess, encryption: Optional[str]) -> tuple[dict, Optional[str]]:
    """Request headers as condition keys, and the KMS key S3 will use (None: no KMS)."""
    other_key = access.kms_key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    if encryption in (None, "default"):
        return {}, access.kms_key_arn
    if encryption == "right-key":
        return {
            "s3:x-amz-server-side-encryption": access.sse_algorithm,
            "s3:x-amz-server-side-encryption-aws-kms-key-id": access.kms_key_arn,
        }, access.kms_key_arn
    if encryption == "kms-without-key":
        return {"s3:x-amz-server-side-encryption": access.sse_algorithm}, None
    if encryption == "wrong-algorithm":
        return {"s3:x-amz-server-side-encryption": "AES256"}, None
    if encryption == "wrong-key":
        return {
            "s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": other_key,
        }, other_key
    if encryption == "sse-c":
        return {"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}, None
    raise ValueError(f"unknown encryption variant {encryption!r}")


def checks_for(access: StackAccess, caller: Caller, cell: Cell) -> list[Check]:
    transport = dict(TRANSPORTS[cell.transport])
    if cell.operation.startswith(BUCKET_OPERATION):
        action = "s3:" + cell.operation.removeprefix(BUCKET_OPERATION)
        return [Check(action, access.bucket_arn, transport, access.bucket_policy, access.account)]
    if cell.operation.startswith(OBJECT_ATTACK_OPERATION):
        action = "s3:" + cell.operation.removeprefix(OBJECT_ATTACK_OPERATION)
        resource = f"{access.bucket_arn}/{cell.key}"
        return [Check(action, resource, {**transport, **object_tags(cell)}, access.bucket_policy, access.account)]
    if cell.operation == "list":
        context = dict(transport)
        if cell.key:
            context["s3:prefix"] = cell.key
        return [Check("s3:ListBucket", access.bucket_arn, context, access.bucket_policy, access.account)]
    action, kms_actions, _ = OBJECT_OPERATIONS[cell.operation]
    headers, kms_key = _encryption_context(access, cell.encryption)
    checks = [
        Check(action, f"{access.bucket_arn}/{cell.key}", {**transport, **headers, **object_tags(cell)},
              access.bucket_policy, access.account)
    ]
    if kms_key is not None and kms_actions:
        kms_context = {
            "aws:SecureTransport": "true",
            "kms:ViaService": f"s3.{access.region}.amazonaws.com",
            "kms:CallerAccount": caller.account or "",
            # With bucket keys, S3 asks KMS with the bucket's ARN as encryption context.
            "kms:EncryptionContext:aws:s3:arn": access.bucket_arn,
        }
        key_policy = access.key_policy if kms_key == access.kms_key_arn else {"Statement": []}
        checks += [Check(k, kms_key, kms_context, key_policy, access.account) for k in kms_actions]
    return checks


# --- the trust rows: who may assume the uploader and tenant roles as which tenant ---------

BROKER_ROLE_NAME = "tenant-broker"
"""A backend that acts for tenants, configured in ``tenantBrokerPrincipalArns``."""
TRUST_ROLES = ("uploader", "tenant")
TRUST_TENANTS = ("acme", "globex")
TRUST_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


@dataclass(frozen=True)
class TrustCell:
    role: str
    caller: str
    tenant: str
    action: str

    def __str__(self) -> str:
        return f"{self.caller} {self.action} {self.role} role as tenant_id={self.tenant}"


def broker_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{BROKER_ROLE_NAME}"


def trust_callers(access: StackAccess) -> dict[str, Caller]:
    """Principals of this account allowed by their own identity policy to assume and tag
    any role, with and without a ``tenant_id`` principal tag; the Lambda role's session
    (a built-in broker of the tenant role) and the same session carrying a tag."""
    assume_any = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}],
    }
    account = access.account

    def principal(name: str, arn: str, tags: dict) -> Caller:
        return Caller(name, account, arn, (assume_any,), tags)

    lambda_role = access.roles["lambda"]
    return {
        "user-tagged-acme": principal("user-tagged-acme", f"arn:aws:iam::{account}:user/acme-cli", {"tenant_id": "acme"}),
        "user-untagged": principal("user-untagged", f"arn:aws:iam::{account}:user/ops", {}),
        "broker": principal("broker", broker_arn(account), {}),
        "broker-tagged-acme": principal("broker-tagged-acme", broker_arn(account), {"tenant_id": "acme"}),
        "lambda": Caller("lambda", account, lambda_role.arn, lambda_role.identity, dict(lambda_role.tags)),
        "lambda-tagged-acme": Caller(
            "lambda-tagged-acme", account, lambda_role.arn, lambda_role.identity, {**lambda_role.tags, "tenant_id": "acme"}
        ),
        "other-account-broker": principal("other-account-broker", broker_arn(OTHER_ACCOUNT), {}),
    }


def trust_cells(caller_names) -> Iterator[TrustCell]:
    for role, caller, tenant, action in itertools.product(TRUST_ROLES, caller_names, TRUST_TENANTS, TRUST_ACTIONS):
        yield TrustCell(role, caller, tenant, action)


def uploader_external_id(access: StackAccess) -> str:
    for statement in access.roles["uploader"].trust["Statement"]:
        condition = statement.get("Condition", {})
        external = (condition.get("StringEquals", {}).get("sts:ExternalId")
                    or condition.get("StringNotEquals", {}).get("sts:ExternalId"))
        if external:
            return external
    raise LookupError("the uploader trust names no sts:ExternalId")


def trust_check(access: StackAccess, cell: TrustCell) -> Check:
    """The request as STS authorises it: the right external id, MFA, one ``tenant_id`` tag."""
    context = {
        "aws:SecureTransport": "true",
        "aws:MultiFactorAuthPresent": "true",
        "aws:RequestTag/tenant_id": cell.tenant,
        "aws:TagKeys": ["tenant_id"],
        "sts:ExternalId": uploader_external_id(access),
    }
    role = access.roles[cell.role]
    return Check(cell.action, role.arn, context, role.trust, access.account)
