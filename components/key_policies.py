"""The KMS key policy (pure, no Pulumi).

The account root keeps the administrative actions (so the key can never be locked out),
configured admins manage the key, and cryptographic use is granted to the account's IAM
principals only when the call comes through S3 in this region (``kms:ViaService``). There
is no ``Principal: "*"``. Service grants (CloudFront, SNS) arrive as extra statements.
"""

from __future__ import annotations

from typing import Optional, Sequence

from . import access_model
from .policy_common import Statement, document, tagged_sessions

ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
"""Key management without use: none of these encrypts or decrypts data."""

S3_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
"""What S3 needs from the key for SSE-KMS, multipart uploads (Decrypt) and bucket keys."""
S3_CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"
"""With S3 Bucket Keys on, S3 asks KMS with the bucket ARN as this context; for an object
written with the bucket key off (a request may say so), with the object's ARN."""


def s3_contexts(bucket_arn: str) -> list[str]:
    """The ``aws:s3:arn`` contexts S3 uses for ``bucket_arn``: the bucket (bucket keys) and its
    objects (bucket key off for that object); nothing of another bucket matches."""
    return [bucket_arn, f"{bucket_arn}/*"]


def account_root_arn(account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def s3_via_service(region: str) -> str:
    return f"s3.{region}.amazonaws.com"


def administration_statements(*, root_arn: str, admin_arns: Sequence[str] = ()) -> list[Statement]:
    """Who manages a key (never uses it): the account root always, configured admins too.

    Every key policy here starts with these, so the key can never be locked out.
    """
    statements: list[Statement] = [
        {
            "Sid": "AllowAccountRootToAdministerTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": root_arn},
            "Action": list(ADMIN_ACTIONS),
            "Resource": "*",
        },
    ]
    if admin_arns:
        statements.append(
            {
                "Sid": "AllowConfiguredAdminsToManageTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(admin_arns)},
                "Action": list(ADMIN_ACTIONS),
                "Resource": "*",
            }
        )
    return statements


def deny_workload_roles(role_arns: Sequence[str], not_action: Sequence[str] | str, what: str) -> Statement:
    """Deny the workload roles' sessions everything on a key but ``not_action`` (``"kms:*"``:
    everything): a Lambda or EC2 role later given ``kms:*`` cannot disable, delete or
    re-policy the key that every tenant's files depend on."""
    statement: Statement = {
        "Sid": f"DenyWorkloadRolesAdministering{what}",
        "Effect": "Deny",
        "Principal": "*",
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(role_arns)}},
    }
    if not_action == "kms:*":
        statement["Action"] = "kms:*"
    else:
        statement["NotAction"] = sorted(not_action)
    return statement


def data_key_isolation_statements(*, bucket_arn: str, region: str, workload_role_arns: Sequence[str],
                                  read_only_role_arns: Sequence[str] = ()) -> list[Statement]:
    """Denies that hold whatever identity policy a workload is given later (access model:
    ``components/access_model.py``, resource ``data-key``).

    Tenant sessions may only have S3 use the key for this data bucket (Decrypt and
    GenerateDataKey, through S3, with the bucket ARN as encryption context); every other
    KMS action (administration, direct use, grants) is refused. The workload roles may use
    the key the same way and nothing else: no key administration; read-only roles
    (``read_only_role_arns``, EC2 in read-only mode) only decrypt.
    """
    tenant_use = sorted(access_model.actions_of(access_model.DATA_KEY, access_model.TENANT))
    backend_use = sorted(access_model.actions_of(access_model.DATA_KEY, access_model.BACKEND))
    read_use = sorted(access_model.actions_of(access_model.DATA_KEY, access_model.BACKEND_READ_ONLY))
    tagged = tagged_sessions()
    return [
        {
            "Sid": "DenyTenantSessionsEverythingButDataKeyUseThroughS3",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": tenant_use,
            "Resource": "*",
            "Condition": tagged,
        },
        {
            "Sid": "DenyTenantSessionsDataKeyUseOutsideS3",
            "Effect": "Deny",
            "Principal": "*",
            "Action": tenant_use,
            "Resource": "*",
            "Condition": {**tagged, "StringNotEquals": {"kms:ViaService": s3_via_service(region)}},
        },
        {
            "Sid": "DenyTenantSessionsDataKeyUseForAnotherBucket",
            "Effect": "Deny",
            "Principal": "*",
            "Action": tenant_use,
            "Resource": "*",
            "Condition": {**tagged, "StringNotLike": {S3_CONTEXT_KEY: s3_contexts(bucket_arn)}},
        },
        deny_workload_roles(workload_role_arns, backend_use, "TheDataKey"),
    ] + ([deny_workload_roles(read_only_role_arns, read_use, "TheDataKeyReadOnly")] if read_only_role_arns else [])


def key_policy(
    *,
    account_id: str,
    region: str,
    partition: str = "aws",
    admin_arns: Sequence[str] = (),
    extra_statements: Sequence[Statement] = (),
    bucket_arn: Optional[str] = None,
) -> dict:
    """The data key's policy; ``extra_statements`` carry service grants such as CloudFront's.

    With ``bucket_arn``, account principals may have S3 use the key for that bucket only
    (``kms:EncryptionContext:aws:s3:arn``); without it, for any bucket of the account."""
    root = account_root_arn(account_id, partition)
    statements = administration_statements(root_arn=root, admin_arns=admin_arns)
    via_s3 = {"kms:ViaService": s3_via_service(region), "kms:CallerAccount": account_id}
    crypto = [a for a in S3_USE_ACTIONS if a != "kms:DescribeKey"]
    statements.append(
        {
            "Sid": "AllowAccountPrincipalsToUseTheKeyThroughS3Only",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": crypto if bucket_arn else list(S3_USE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": via_s3,
                          **({"StringLike": {S3_CONTEXT_KEY: s3_contexts(bucket_arn)}} if bucket_arn else {})},
        }
    )
    if bucket_arn:
        # DescribeKey carries no encryption context.
        statements.append(
            {
                "Sid": "AllowAccountPrincipalsToDescribeTheKeyThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": via_s3},
            }
        )
    statements.extend(extra_statements)
    return document(statements)
