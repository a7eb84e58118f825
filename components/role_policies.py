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

import functools
import string
import unicodedata

from securestore.keys import MAX_NAME_CHARS, TENANT_ID_CHARS, TENANT_ID_FIRST_CHARS

from . import access_model
from .policy_common import Statement, document, tagged_sessions

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


def _kms_via_s3(sid: str, actions: Sequence[str], kms_key_arn: str, region: str, bucket_arn: str) -> Statement:
    """The key, only when S3 uses it for the data bucket (with bucket keys S3 sends the
    bucket ARN as encryption context)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": kms_key_arn,
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
        },
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
AWS_TAG_VALUE_PUNCTUATION = "_.:/=+-@"
"""Besides Unicode letters, digits and white space (``\\p{L}\\p{N}\\p{Z}``), the only characters
AWS accepts in a tag value (IAM User Guide, "Tagging IAM resources": naming rules)."""


@functools.lru_cache(maxsize=1)
def tenant_id_refusals() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(StringLike patterns, StringEqualsIgnoreCase values)`` that match exactly the tag
    values AWS accepts and the key builder refuses (``securestore.keys``), built from the
    builder's own parts: any character of AWS's tag alphabet outside ``TENANT_ID_CHARS``
    (``. : / = + @``, every Unicode space), a first character outside
    ``TENANT_ID_FIRST_CHARS`` (``_``, ``-``), more than ``MAX_NAME_CHARS`` characters, a
    reserved id in any case (``Public``).

    One gap, which IAM's wildcards cannot close: letters and digits outside ASCII (AWS
    accepts ``\\p{L}``/``\\p{N}`` in tags; the builder refuses them) cannot be listed in a
    policy. Such a tag names a prefix no other tenant and no built key can have, so it
    crosses no tenant; ``tests/access/test_tenant_id_trust.py`` shows the gap.
    """
    spaces = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("Z")]
    anywhere = [c for c in AWS_TAG_VALUE_PUNCTUATION if c not in TENANT_ID_CHARS] + spaces
    first = [c for c in AWS_TAG_VALUE_PUNCTUATION if c in TENANT_ID_CHARS and c not in TENANT_ID_FIRST_CHARS]
    patterns = [f"*{c}*" for c in anywhere] + [f"{c}*" for c in first] + ["?" * (MAX_NAME_CHARS + 1) + "*"]
    return tuple(patterns), tuple(sorted(RESERVED_TENANT_IDS))


def deny_invalid_tenant_ids() -> list[Statement]:
    """Trust statements refusing a ``tenant_id`` tag the key builder would refuse."""
    tag = f"aws:RequestTag/{TENANT_TAG_KEY}"
    patterns, reserved = tenant_id_refusals()
    actions = ["sts:AssumeRole", "sts:TagSession"]
    return [
        {"Sid": "DenyInvalidTenantIds", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": actions, "Condition": {"StringLike": {tag: list(patterns)}}},
        {"Sid": "DenyReservedTenantIds", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": actions, "Condition": {"StringEqualsIgnoreCase": {tag: list(reserved)}}},
    ]


def _tenant_tag_conditions() -> dict:
    """The request carries a non-empty ``tenant_id`` tag and no other tag key (the trust's
    ``deny_invalid_tenant_ids`` refuses the values the key builder refuses)."""
    tag = f"aws:RequestTag/{TENANT_TAG_KEY}"
    return {
        "StringLike": {tag: "?*"},
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
    tagged_conditions = _own_tenant_conditions()
    if require_mfa:
        tagged_conditions["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    statements: list[Statement] = [
        {
            "Sid": "AllowTaggedCallersTheirOwnTenantOnly",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": tagged_conditions,
        },
    ]
    if brokers:
        statements.append(
            {
                "Sid": "AllowBrokersAnyTenant",
                "Effect": "Allow",
                "Principal": {"AWS": brokers},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": _broker_conditions(),
            }
        )
    # One deny instead of the external id in every Allow: the trust must hold the tenant-id
    # refusals too within IAM's 2,048 characters. A missing external id is refused as well
    # (StringNotEquals matches an absent key).
    statements.append(
        {
            "Sid": "DenyAssumingWithoutTheExternalId",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"sts:ExternalId": external_id}},
        }
    )
    return document(statements + deny_invalid_tenant_ids())


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
            *deny_invalid_tenant_ids(),
        ]
    )


# --- identity policies ------------------------------------------------------------------


def function_log_groups(region: str, account_id: str, partition: str = "aws") -> str:
    """Lambda's own log groups (``/aws/lambda/<function>``), and nothing else of the account's
    logs: the AWS managed basic-execution policy allows ``logs:*`` writes on ``*``, which
    would let a function forge events in the trail's log group."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:/aws/lambda/*"


def lambda_policy(
    *, bucket_arn: str, kms_key_arn: str, region: str, tenant_role_arn: Optional[str] = None,
    function_logs_arn: Optional[str] = None,
) -> dict:
    """Backend API: list, read, write and delete objects anywhere in the data bucket; with
    ``function_logs_arn`` (``function_log_groups``), write its own CloudWatch Logs."""
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
        _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region, bucket_arn),
    ]
    if tenant_role_arn:
        statements.append(_assume_tenant_role(tenant_role_arn))
    if function_logs_arn:
        statements.append({
            "Sid": "AllowWritingItsOwnFunctionLogsOnly",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": function_logs_arn,
        })
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
            bucket_arn,
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
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region, bucket_arn),
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
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region, bucket_arn),
        ]
    )


def tenant_boundary(*, bucket_arn: str, kms_key_arn: str, region: str) -> dict:
    """The permissions boundary of every role a tenant session runs as (tenant, uploader):
    the tenant class of the access model, which is exactly the tenant role's own policy.
    Whatever identity policy such a role is given later (``*`` included), its sessions can
    do no more: no other store, no ``iam:PassRole``, no ``sts:AssumeRole``, no key
    administration, no removal of the boundary itself."""
    return tenant_policy(bucket_arn=bucket_arn, kms_key_arn=kms_key_arn, region=region)


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
            _kms_via_s3("AllowDataKeyThroughS3Only", KMS_WRITE_ACTIONS, kms_key_arn, region, bucket_arn),
        ]
    )


# --- the offboarding role (securestore tenant erase / export / usage) ---------------------

OFFBOARDING_MFA_MAX_AGE_SECONDS = 3600
"""The MFA sign-in behind an offboarding session is at most an hour old."""
OFFBOARDING_BUCKET_DENIED = ("s3:Bypass*", "s3:Create*", "s3:Delete*", "s3:Put*", "s3:Update*")
"""Denied on the bucket itself: every bucket-level write AWS has or adds under these verbs
(policy, versioning, lifecycle, Object Lock, encryption, inventory, replication, CORS,
acceleration, analytics...). On the bucket ARN they never touch an object."""
OFFBOARDING_OBJECT_DENIED = ("s3:Bypass*", "s3:Put*", "s3:Replicate*", "s3:Restore*")
"""Denied on objects: writes, retention and legal-hold changes, governance bypass, tagging,
ACLs, replication and restores. A Deny, so the wildcards only widen the refusal, and a policy
attached to the role later cannot lift it."""


def offboarding_trust_policy(principal_arns: Sequence[str]) -> dict:
    """Officers with MFA (at most an hour old), never a ``tenant_id``-tagged caller, and no
    session tags: ``sts:TagSession`` is not allowed, so a tagged request is refused."""
    principals = _refuse_star(principal_arns, "offboarding trust")
    return document(
        [
            {
                "Sid": "AllowUntaggedOfficersWithRecentMfa",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    "NumericLessThan": {"aws:MultiFactorAuthAge": str(OFFBOARDING_MFA_MAX_AGE_SECONDS)},
                    "Null": {f"aws:PrincipalTag/{TENANT_TAG_KEY}": "true"},
                },
            }
        ]
    )


def offboarding_policy(
    *, bucket_arn: str, kms_key_arn: str, region: str, log_bucket_arn: Optional[str] = None
) -> dict:
    """Erase and export any tenant: list versions and uploads, read objects and their lock
    state, delete versions and abort uploads under ``<segment>/`` keys except ``public/``;
    read the inventory reports; never change the bucket (denied outright)."""
    model = access_model
    statements: list[Statement] = [
        {
            "Sid": "AllowListingVersionsUploadsAndLockConfiguration",
            "Effect": "Allow",
            "Action": sorted(model.OFFBOARDING_BUCKET_ACTIONS),
            "Resource": bucket_arn,
        },
        {
            "Sid": "AllowReadingAndErasingTenantObjectVersions",
            "Effect": "Allow",
            "Action": sorted(model.OFFBOARDING_OBJECT_ACTIONS),
            "Resource": objects_under(bucket_arn, "*/"),
        },
        {
            "Sid": "DenyErasingThePublicPrefix",
            "Effect": "Deny",
            "Action": sorted(model.OFFBOARDING_OBJECT_ACTIONS),
            "Resource": objects_under(bucket_arn, "public/"),
        },
        {
            "Sid": "DenyChangingAnyBucketSetting",
            "Effect": "Deny",
            "Action": list(OFFBOARDING_BUCKET_DENIED),
            "Resource": bucket_arn,
        },
        {
            "Sid": "DenyWritingObjectsOrWeakeningObjectLock",
            "Effect": "Deny",
            "Action": list(OFFBOARDING_OBJECT_DENIED),
            "Resource": objects_under(bucket_arn),
        },
        _kms_via_s3("AllowDecryptThroughS3Only", KMS_READ_ACTIONS, kms_key_arn, region, bucket_arn),
    ]
    if log_bucket_arn:
        inventory = "inventory/"
        statements += [
            {
                "Sid": "AllowListingTheInventoryReports",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": log_bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{inventory}*"}},
            },
            {
                "Sid": "AllowReadingTheInventoryReports",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": objects_under(log_bucket_arn, inventory),
            },
        ]
    return document(statements)


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
    tagged = tagged_sessions()
    model_actions = sorted(access_model.actions_of(access_model.DATA_BUCKET, access_model.TENANT))
    return [
        {
            # The access model's ceiling for tenant sessions on this bucket, whatever they
            # are given later: no tagging, ACLs, retention, version deletion, restore, ...
            "Sid": "DenyTaggedPrincipalsEveryActionTheAccessModelDoesNotGrant",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": model_actions,
            "Resource": [bucket_arn, objects_under(bucket_arn)],
            "Condition": tagged,
        },
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
