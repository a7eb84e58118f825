"""Trust and permission documents of the access roles, and the tenant-isolation deny (pure).

Tenant isolation is enforced twice, by IAM and not by convention:

* the tenant and uploader roles may only touch ``bucket/${aws:PrincipalTag/tenant_id}/*``
  (attribute-based access control: the ``tenant_id`` session tag chooses the prefix);
* the bucket policy denies any object access outside that prefix to every principal that
  carries a ``tenant_id`` tag, so that a too-broad identity policy attached later cannot
  reach another tenant's files.

Rules every document here keeps (tests check them with parliament and an access matrix):
no ``*`` or ``service:*`` action, no ``NotAction``/``NotResource`` in an Allow, no s3 or kms
action on ``Resource: "*"``, no trust to ``*``; KMS use only through S3
(``kms:ViaService``) and only on our key. Every statement has a Sid that says its intent.

S3 authorises ``CreateMultipartUpload``, ``UploadPart`` and ``CompleteMultipartUpload``
with ``s3:PutObject``; aborting and listing parts have their own actions. Multipart uploads
into an SSE-KMS bucket need ``kms:Decrypt`` besides ``kms:GenerateDataKey`` because S3
reads the encrypted parts back when it completes the upload.
"""

from __future__ import annotations

from typing import Optional, Sequence

from . import access_model
from .policy_common import Statement, document

TENANT_TAG_KEY = "tenant_id"
TENANT_PREFIX = "${aws:PrincipalTag/" + TENANT_TAG_KEY + "}"
"""IAM policy variable: the caller's ``tenant_id`` principal (session) tag."""

EC2_ACCESS_MODES = ("read-only", "read-write")

LAMBDA_BASIC_EXECUTION_POLICY = "service-role/AWSLambdaBasicExecutionRole"
"""AWS managed policy that lets a function write its CloudWatch Logs (and nothing else)."""

READ_OBJECT_ACTIONS = access_model.READ_OBJECT_ACTIONS
WRITE_OBJECT_ACTIONS = tuple(a for a in access_model.BACKEND_OBJECT_ACTIONS if a not in READ_OBJECT_ACTIONS)
"""``s3:PutObject`` also authorises create/upload-part/complete of a multipart upload."""
UPLOAD_ACTIONS = access_model.UPLOAD_ACTIONS
TENANT_OBJECT_ACTIONS = access_model.TENANT_OBJECT_ACTIONS
"""The action sets are the access model's (``components/access_model.py``)."""
KMS_READ_ACTIONS = access_model.KMS_VIA_S3_READ
KMS_WRITE_ACTIONS = access_model.KMS_VIA_S3_WRITE
"""Decrypt is needed for multipart uploads and reads; GenerateDataKey for every write."""


def aws_managed_policy_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def objects_under(bucket_arn: str, prefix: str = "") -> str:
    return f"{bucket_arn}/{prefix}*"


def tenant_objects(bucket_arn: str) -> str:
    """``bucket/${aws:PrincipalTag/tenant_id}/*``: the caller's own tenant prefix."""
    return objects_under(bucket_arn, f"{TENANT_PREFIX}/")


def _kms_via_s3(sid: str, actions: Sequence[str], kms_key_arn: str, region: str) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": kms_key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }


def _assume_tenant_role(tenant_role_arn: str) -> Statement:
    return {
        "Sid": "AllowAssumingTheTenantRoleWithATenantTag",
        "Effect": "Allow",
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Resource": tenant_role_arn,
        "Condition": _tenant_tag_conditions(),
    }


# --- trust policies ---------------------------------------------------------------------


def service_trust_policy(service: str, source_account: Optional[str] = None) -> dict:
    """Only ``service`` may assume the role; with ``source_account``, only on our behalf."""
    statement: Statement = {
        "Sid": "AllowServiceToAssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document([statement])


RESERVED_TENANT_IDS = ("public",)
"""Prefixes the platform itself uses (``public/`` is served to everyone by CloudFront); the
same list as ``securestore.keys.RESERVED_TENANT_IDS`` (a test checks)."""
REFUSED_TENANT_TAG_VALUES = ("*/*",) + RESERVED_TENANT_IDS
"""A ``/`` would nest one tenant's prefix inside another's; a reserved id is not a tenant."""


def _tenant_tag_conditions() -> dict:
    """The request carries a non-empty ``tenant_id`` tag, not a reserved id and without
    ``/``, and no other tag key."""
    tag = f"aws:RequestTag/{TENANT_TAG_KEY}"
    return {
        "StringLike": {tag: "?*"},
        "StringNotLike": {tag: list(REFUSED_TENANT_TAG_VALUES)},
        "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG_KEY]},
    }


def _own_tenant_conditions(extra_equals: Optional[dict] = None) -> dict:
    """A valid tag, and it is the caller's own: ``aws:RequestTag/tenant_id`` equals
    ``${aws:PrincipalTag/tenant_id}``. A caller without that principal tag matches nothing
    (IAM does not match a condition whose policy variable is missing)."""
    conditions = _tenant_tag_conditions()
    conditions["StringEquals"] = {
        **(extra_equals or {}),
        f"aws:RequestTag/{TENANT_TAG_KEY}": TENANT_PREFIX,
    }
    return conditions


def _broker_conditions(extra_equals: Optional[dict] = None) -> dict:
    """A valid tag of any tenant, requested by a broker that carries no ``tenant_id`` of its
    own (a tagged caller may only ever request its own tenant, broker or not)."""
    conditions = _tenant_tag_conditions()
    conditions["Null"] = {f"aws:PrincipalTag/{TENANT_TAG_KEY}": "true"}
    if extra_equals:
        conditions["StringEquals"] = dict(extra_equals)
    return conditions


def _refuse_star(principal_arns: Sequence[str], what: str) -> list[str]:
    if not principal_arns:
        raise ValueError(f"{what}: at least one trusted principal ARN is required")
    for arn in principal_arns:
        if "*" in arn or not arn.startswith("arn:"):
            raise ValueError(f"{what}: {arn!r} is not an exact IAM principal ARN (no wildcards)")
    return sorted(set(principal_arns))


def _refuse_root(broker_arns: Sequence[str], what: str) -> list[str]:
    """Brokers are named roles or users: ``:root`` would make the whole account a broker."""
    if not broker_arns:
        return []
    brokers = _refuse_star(broker_arns, what)
    for arn in brokers:
        if arn.endswith(":root"):
            raise ValueError(f"{what}: {arn!r} is an account, not a named broker role or user")
    return brokers


def uploader_trust_policy(
    principal_arns: Sequence[str],
    external_id: str,
    require_mfa: bool = False,
    broker_arns: Sequence[str] = (),
) -> dict:
    """STS with the external id, tagged with a tenant the caller is entitled to.

    Two modes, both with the external id:

    * a caller among ``principal_arns`` that carries its own ``tenant_id`` principal tag
      (an IAM user or role tagged ``tenant_id``) may request only that tenant (and needs
      MFA when ``require_mfa``);
    * a broker (``broker_arns``: the backend that acts for tenants, named explicitly) that
      carries no ``tenant_id`` tag may request any valid tenant. MFA is not asked of
      brokers: they are roles of services, which cannot present MFA.

    Everyone else, an untagged principal of the account included, is refused. Both
    ``sts:AssumeRole`` and ``sts:TagSession`` require the tag: a session without it could
    do nothing anyway, and refusing it makes the mistake visible.
    """
    principals = _refuse_star(principal_arns, "uploader trust")
    brokers = _refuse_root(broker_arns, "uploader brokers")
    if not external_id:
        raise ValueError("uploader trust: an external id is required")
    external = {"sts:ExternalId": external_id}
    assume_conditions = _own_tenant_conditions(external)
    if require_mfa:
        assume_conditions["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    statements: list[Statement] = [
        {
            "Sid": "AllowTaggedCallersWithExternalIdTheirOwnTenantOnly",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "sts:AssumeRole",
            "Condition": assume_conditions,
        },
        {
            "Sid": "AllowTaggedCallersToTagTheSessionWithTheirOwnTenant",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "sts:TagSession",
            "Condition": _own_tenant_conditions(),
        },
    ]
    if brokers:
        statements += [
            {
                "Sid": "AllowBrokersWithExternalIdAnyTenant",
                "Effect": "Allow",
                "Principal": {"AWS": brokers},
                "Action": "sts:AssumeRole",
                "Condition": _broker_conditions(external),
            },
            {
                "Sid": "AllowBrokersToTagTheSessionWithAnyTenant",
                "Effect": "Allow",
                "Principal": {"AWS": brokers},
                "Action": "sts:TagSession",
                "Condition": _broker_conditions(),
            },
        ]
    return document(statements)


def tenant_role_trust_policy(backend_role_arns: Sequence[str], broker_arns: Sequence[str] = ()) -> dict:
    """The backends (Lambda, EC2 read-write) and the configured brokers assume the tenant
    role with a ``tenant_id`` tag: any valid tenant when they carry no ``tenant_id`` of
    their own, only their own when they do."""
    principals = _refuse_star(list(backend_role_arns) + list(_refuse_root(broker_arns, "tenant role brokers")),
                              "tenant role trust")
    return document(
        [
            {
                "Sid": "AllowBackendsToAssumeWithAnyTenantTag",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": _broker_conditions(),
            },
            {
                "Sid": "AllowTaggedBackendsTheirOwnTenantOnly",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": _own_tenant_conditions(),
            },
        ]
    )


# --- identity policies ------------------------------------------------------------------


def lambda_policy(
    *, bucket_arn: str, kms_key_arn: str, region: str, tenant_role_arn: Optional[str] = None
) -> dict:
    """Backend API: list, read, write and delete objects anywhere in the data bucket."""
    statements: list[Statement] = [
        {
            "Sid": "AllowListingTheDataBucket",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
        {
            "Sid": "AllowObjectReadWriteDeleteInTheDataBucket",
            "Effect": "Allow",
            "Action": sorted(READ_OBJECT_ACTIONS + WRITE_OBJECT_ACTIONS),
            "Resource": objects_under(bucket_arn),
        },
        _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region),
    ]
    if tenant_role_arn:
        statements.append(_assume_tenant_role(tenant_role_arn))
    return document(statements)


def ec2_policy(
    *,
    mode: str,
    bucket_arn: str,
    kms_key_arn: str,
    region: str,
    tenant_role_arn: Optional[str] = None,
) -> dict:
    """Application servers: read-only, or read-write (then also the tenant role)."""
    if mode not in EC2_ACCESS_MODES:
        raise ValueError(f"EC2 access mode {mode!r} is not one of {', '.join(EC2_ACCESS_MODES)}")
    writes = mode == "read-write"
    statements: list[Statement] = [
        {
            "Sid": "AllowListingTheDataBucket",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
        {
            "Sid": "AllowObjectReadWriteDeleteInTheDataBucket" if writes else "AllowObjectReadInTheDataBucket",
            "Effect": "Allow",
            "Action": sorted(READ_OBJECT_ACTIONS + (WRITE_OBJECT_ACTIONS if writes else ())),
            "Resource": objects_under(bucket_arn),
        },
        _kms_via_s3(
            "AllowDataKeyThroughS3Only" if writes else "AllowDecryptThroughS3Only",
            KMS_WRITE_ACTIONS if writes else KMS_READ_ACTIONS,
            kms_key_arn,
            region,
        ),
    ]
    if writes and tenant_role_arn:
        statements.append(_assume_tenant_role(tenant_role_arn))
    return document(statements)


def uploader_policy(*, bucket_arn: str, kms_key_arn: str, region: str) -> dict:
    """Seed 001's uploader: put and multipart-upload under the session's tenant prefix only."""
    return document(
        [
            {
                "Sid": "AllowUploadsUnderOwnTenantPrefix",
                "Effect": "Allow",
                "Action": sorted(UPLOAD_ACTIONS),
                "Resource": tenant_objects(bucket_arn),
            },
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region),
        ]
    )


def tenant_policy(*, bucket_arn: str, kms_key_arn: str, region: str) -> dict:
    """ABAC: get/put/delete under the session's tenant prefix; list only that prefix."""
    return document(
        [
            {
                "Sid": "AllowObjectAccessUnderOwnTenantPrefix",
                "Effect": "Allow",
                "Action": sorted(TENANT_OBJECT_ACTIONS),
                "Resource": tenant_objects(bucket_arn),
            },
            {
                "Sid": "AllowListingOwnTenantPrefixOnly",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{TENANT_PREFIX}/*"}},
            },
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region),
        ]
    )


def least_privilege_policy(*, bucket_arn: str, kms_key_arn: str, region: str) -> dict:
    """Seed 003's customer-managed policy for the app's other principals, without ``*``.

    Seed 003 had get/put/delete; abort and list-parts are added because a multipart
    client (``securestore upload``) aborts on failure and resumes by listing parts."""
    return document(
        [
            {
                "Sid": "AllowListingTheDataBucket",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
            },
            {
                "Sid": "AllowObjectReadWriteDeleteInTheDataBucket",
                "Effect": "Allow",
                "Action": sorted(READ_OBJECT_ACTIONS + WRITE_OBJECT_ACTIONS),
                "Resource": objects_under(bucket_arn),
            },
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region),
        ]
    )


# --- bucket-policy statements (passed to SecureBucket.attach_policies) -------------------


BUCKET_LISTING_ACTIONS = ("s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions")
"""Bucket-level actions that reveal keys; a tagged principal may use them only on its prefix."""
TAGGED_BUCKET_ACTIONS = BUCKET_LISTING_ACTIONS + ("s3:GetBucketLocation",)
"""The only actions on the bucket ARN itself a tagged principal is not denied outright
(SDKs call GetBucketLocation to find the region; the listings keep their prefix deny)."""


def tenant_isolation_statements(bucket_arn: str) -> list[Statement]:
    """Deny a ``tenant_id``-tagged principal anything outside its own prefix.

    Denies (never Allows), so ``s3:*``, ``NotAction`` and ``NotResource`` here only widen
    what is refused: every object action on every key that is not under the caller's
    prefix; every action on the bucket itself except listing and GetBucketLocation
    (DeleteBucketPolicy, PutLifecycleConfiguration, PutBucketVersioning, ... would let a
    session that is later given ``s3:*`` remove every deny or expire everyone's data); and
    every listing of keys, versions or uploads whose ``s3:prefix`` is not under it (a
    missing prefix counts as outside).
    """
    tagged = {"Null": {f"aws:PrincipalTag/{TENANT_TAG_KEY}": "false"}}
    return [
        {
            "Sid": "DenyTaggedPrincipalsOutsideTheirTenantPrefix",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "NotResource": [bucket_arn, tenant_objects(bucket_arn)],
            "Condition": tagged,
        },
        {
            "Sid": "DenyTaggedPrincipalsEveryBucketActionButListing",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": list(TAGGED_BUCKET_ACTIONS),
            "Resource": bucket_arn,
            "Condition": tagged,
        },
        {
            "Sid": "DenyTaggedPrincipalsListingOutsideTheirTenantPrefix",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(BUCKET_LISTING_ACTIONS),
            "Resource": bucket_arn,
            "Condition": {**tagged, "StringNotLike": {"s3:prefix": f"{TENANT_PREFIX}/*"}},
        },
    ]
