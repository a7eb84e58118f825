"""Bucket policy documents for the data bucket and its access-log bucket (pure, no Pulumi).

The data bucket's policy is a list of denies that hold whatever IAM grants: no plain HTTP,
no TLS < 1.2, no upload that names another encryption algorithm or another KMS key, no
SSE-C, no key with a dot or empty path segment. Grants to CloudFront or denies for tenant isolation are passed in as extra
statements by the components that own those concerns.
"""

from __future__ import annotations

from typing import Sequence

from .policy_common import Statement, deny_insecure_transport, deny_outdated_tls, deny_tenant_sessions, document

ACCESS_LOG_PREFIX = "s3-access/"
"""Where S3 server access logs of the data bucket land inside the log bucket."""
INVENTORY_PREFIX = "inventory"
"""Where S3 Inventory reports of the data bucket land inside the log bucket: S3 writes
``inventory/<data bucket>/<configuration id>/...`` (manifest.json and the data files)."""
INVENTORY_ID = "tenant-usage"
"""The inventory configuration's id (the second folder under ``inventory/<bucket>/``)."""


def inventory_statements(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> list[Statement]:
    """The log bucket's grant to S3 Inventory, as the S3 User Guide gives it ("Configuring
    Amazon S3 Inventory", destination bucket policy): ``s3.amazonaws.com`` may put objects under
    the inventory prefix only for our data bucket (``aws:SourceArn``) and account
    (``aws:SourceAccount``), with the ``bucket-owner-full-control`` ACL S3 sends. The reports
    name every tenant's keys; the log bucket's deny of tenant sessions covers them."""
    return [
        {
            "Sid": "AllowS3InventoryReportsOfTheDataBucketOnly",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": object_arn(log_bucket_arn, f"{INVENTORY_PREFIX}/*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_bucket_arn},
                "StringEquals": {
                    "aws:SourceAccount": account_id,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                },
            },
        }
    ]


def object_arn(bucket_arn: str, key_pattern: str = "*") -> str:
    return f"{bucket_arn}/{key_pattern}"


UNSAFE_KEY_PATTERNS = (
    "../*", "*/../*", "*/..", "..",
    "./*", "*/./*", "*/.", ".",
    "/*", "*//*",
)
"""Keys with a ``.``/``..`` segment or an empty one (a leading ``/`` or ``//``).

CloudFront normalizes dot segments to choose a cache behaviour and then sends the raw URI
to the origin, while S3 keys are literal: ``acme/../public/evil.html`` is a key under
``acme/`` that ``/acme/%2e%2e/public/evil.html`` serves through the unsigned ``public/*``
behaviour. Refusing to write such keys means they cannot exist. IAM's ``*`` also matches
the empty string, so ``*/../*`` covers a middle segment and the other forms cover the
first, the last and the only one. A trailing ``/`` (a folder marker) stays allowed."""


def deny_unsafe_keys(bucket_arn: str) -> Statement:
    """Deny writing (put, multipart create/part/complete, copy destination) unsafe keys."""
    return {
        "Sid": "DenyWritingKeysWithDotOrEmptySegments",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": [object_arn(bucket_arn, pattern) for pattern in UNSAFE_KEY_PATTERNS],
    }


def data_bucket_policy(
    *,
    bucket_arn: str,
    kms_key_arn: str,
    sse_algorithm: str = "aws:kms",
    extra_statements: Sequence[Statement] = (),
) -> dict:
    """The data bucket's policy: transport and encryption denies, then ``extra_statements``."""
    everything = [bucket_arn, object_arn(bucket_arn)]
    objects = [object_arn(bucket_arn)]
    statements: list[Statement] = [
        deny_insecure_transport(everything),
        deny_outdated_tls(everything),
        {
            "Sid": "DenyUploadsWithAnotherEncryptionAlgorithm",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            # Only when the header is sent: UploadPart/CompleteMultipartUpload (also
            # s3:PutObject) never carry it, and "...IfExists" would deny them (absent = true).
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": sse_algorithm},
            },
        },
        {
            "Sid": "DenyUploadsWithAnotherKmsKey",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            # An SSE header without our key ARN (absent: S3 would use aws/s3) is denied.
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "ArnNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn},
            },
        },
        {
            "Sid": "DenyCustomerProvidedKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
            },
        },
        deny_unsafe_keys(bucket_arn),
    ]
    statements.extend(extra_statements)
    return document(statements)


def log_bucket_policy(
    *,
    log_bucket_arn: str,
    source_bucket_arn: str,
    account_id: str,
    extra_statements: Sequence[Statement] = (),
    inventory: bool = False,
) -> dict:
    """The log bucket's policy: only S3 logging (and, with ``inventory``, S3 Inventory), only
    for our data bucket and account.

    Access logs hold every tenant's keys and the query strings of pre-signed and
    CloudFront-signed URLs (replayable until they expire), inventory reports every tenant's
    keys: tenant sessions are refused everything here, whatever identity policy they are given."""
    everything = [log_bucket_arn, object_arn(log_bucket_arn)]
    statements: list[Statement] = [
        deny_insecure_transport(everything),
        deny_outdated_tls(everything),
        deny_tenant_sessions(everything, "s3:*", "TheLogBucket"),
        {
            "Sid": "AllowServerAccessLogsFromTheDataBucketOnly",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": object_arn(log_bucket_arn, f"{ACCESS_LOG_PREFIX}*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_bucket_arn},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        },
    ]
    if inventory:
        statements.extend(inventory_statements(log_bucket_arn, source_bucket_arn, account_id))
    statements.extend(extra_statements)
    return document(statements)
