"""Policy statements CloudFront needs, each scoped to ONE distribution (pure, no Pulumi).

CloudFront reaches the private data bucket through Origin Access Control: the request is
signed by the service principal ``cloudfront.amazonaws.com`` and carries the
distribution's ARN as ``AWS:SourceArn``. Granting the service principal without that
condition would let every CloudFront distribution in every account read the bucket, so
each grant here takes the distribution ARN and refuses anything that is not one.

CloudFront standard logging (v2) writes through CloudWatch Logs' delivery service
(``delivery.logs.amazonaws.com``); its grant on the log bucket is scoped the same way, by
our account and the ARN of this distribution's delivery source.
"""

from __future__ import annotations

import re

from .policy_common import Statement

CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"
LOG_DELIVERY_PRINCIPAL = "delivery.logs.amazonaws.com"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
"""Where CloudFront access logs land in the log bucket (S3 server access logs use s3-access/)."""
CLOUDFRONT_LOG_REGION = "us-east-1"
"""CloudFront is global; its log delivery source lives in us-east-1."""

_DISTRIBUTION_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:cloudfront::\d{12}:distribution/[A-Z0-9]+$")
_BUCKET_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DELIVERY_SOURCE_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:logs:[a-z0-9-]+:\d{12}:delivery-source:[A-Za-z0-9_-]{1,60}$"
)
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _checked(value: object, pattern: re.Pattern[str], what: str) -> str:
    """Refuse a missing or malformed ARN: ``None`` would become a grant on ``"None"``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} must look like {pattern.pattern}, got {value!r}")
    return value


def distribution_arn(account_id: str, distribution_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:cloudfront::{account_id}:distribution/{distribution_id}"


def delivery_source_arn(account_id: str, source_name: str, partition: str = "aws") -> str:
    """The ARN of a log delivery source, known from its name before it exists."""
    return f"arn:{partition}:logs:{CLOUDFRONT_LOG_REGION}:{account_id}:delivery-source:{source_name}"


def cloudfront_read_statement(*, bucket_arn: str, distribution_arn: str) -> Statement:
    """Data bucket: this distribution may read objects, nothing else (no list, no write)."""
    bucket = _checked(bucket_arn, _BUCKET_ARN, "bucket_arn")
    source = _checked(distribution_arn, _DISTRIBUTION_ARN, "distribution_arn")
    return {
        "Sid": "AllowCloudFrontReadForThisDistribution",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_PRINCIPAL},
        "Action": "s3:GetObject",
        "Resource": f"{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": source}},
    }


def cloudfront_decrypt_statement(*, distribution_arn: str) -> Statement:
    """Data key: this distribution may decrypt (objects are SSE-KMS); it never encrypts."""
    source = _checked(distribution_arn, _DISTRIBUTION_ARN, "distribution_arn")
    return {
        "Sid": "AllowCloudFrontDecryptForThisDistribution",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT_PRINCIPAL},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": source}},
    }


def log_delivery_statement(
    *, log_bucket_arn: str, account_id: str, delivery_source_arn: str
) -> Statement:
    """Log bucket: CloudWatch log delivery may write CloudFront logs under ``cloudfront/`` only.

    No ``s3:x-amz-acl`` condition: the log bucket enforces bucket-owner ownership, so
    ACLs are disabled and every delivered object belongs to us anyway.
    """
    bucket = _checked(log_bucket_arn, _BUCKET_ARN, "log_bucket_arn")
    account = _checked(account_id, _ACCOUNT_ID, "account_id")
    source = _checked(delivery_source_arn, _DELIVERY_SOURCE_ARN, "delivery_source_arn")
    return {
        "Sid": "AllowCloudFrontLogDeliveryForThisDistribution",
        "Effect": "Allow",
        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
        "Action": "s3:PutObject",
        "Resource": f"{bucket}/{CLOUDFRONT_LOG_PREFIX}*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnEquals": {"aws:SourceArn": source},
        },
    }
