"""The KMS key policy (pure, no Pulumi).

The account root keeps the administrative actions (so the key can never be locked out),
configured admins manage the key, and cryptographic use is granted to the account's IAM
principals only when the call comes through S3 in this region (``kms:ViaService``). There
is no ``Principal: "*"``. Service grants (CloudFront, SNS) arrive as extra statements.
"""

from __future__ import annotations

from typing import Sequence

from .policy_common import Statement, document

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


def key_policy(
    *,
    account_id: str,
    region: str,
    partition: str = "aws",
    admin_arns: Sequence[str] = (),
    extra_statements: Sequence[Statement] = (),
) -> dict:
    """The data key's policy; ``extra_statements`` carry service grants such as CloudFront's."""
    root = account_root_arn(account_id, partition)
    statements = administration_statements(root_arn=root, admin_arns=admin_arns)
    statements.append(
        {
            "Sid": "AllowAccountPrincipalsToUseTheKeyThroughS3Only",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(S3_USE_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": s3_via_service(region),
                    "kms:CallerAccount": account_id,
                }
            },
        }
    )
    statements.extend(extra_statements)
    return document(statements)
