"""The malware-scan gate and the scanner's role, as policy documents (pure, no Pulumi).

GuardDuty Malware Protection for S3 scans each new object and tags it
``GuardDutyMalwareScanStatus`` = ``NO_THREATS_FOUND`` | ``THREATS_FOUND`` | ``UNSUPPORTED`` |
``ACCESS_DENIED`` | ``FAILED``. The tag means nothing unless reads depend on it and nobody
but the scanner can write it, so the data bucket's policy gets:

* ``DenyReadingObjectsNotScannedClean``: every principal (tenant sessions, the uploader,
  CloudFront, any role given ``s3:*`` later) is refused ``GetObject``/``GetObjectVersion``
  (and the torrent forms) on scanned keys unless the object's tag is ``NO_THREATS_FOUND``.
  ``StringNotEquals`` on a missing tag matches (IAM: a negated operator whose key is absent
  is true), so an object not scanned yet is refused too. Only the scanner's role (it reads
  to scan), the configured reviewer role and, by config, the backend roles are excepted,
  by ``aws:PrincipalArn`` (absent for service principals, so CloudFront stays gated).
* ``DenyScanTagInRequests``: no upload (PutObject, so also CreateMultipartUpload and
  CopyObject) and no tag write may carry the tag key, except from the scanner.
* ``DenyRetaggingScannedObjects``: once an object carries the tag, nobody but the scanner
  may replace (Put*Tagging replaces the whole set) or delete its tags.
* ``DenyReplicatingIntoTheGatedBucket``: replication writes objects with their tags.

Uploads without tags (all our clients) are untouched. Everything is a Deny, so a later
identity policy cannot widen it.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from .policy_common import Statement, document

SCAN_TAG_KEY = "GuardDutyMalwareScanStatus"
CLEAN = "NO_THREATS_FOUND"
NOT_CLEAN = ("THREATS_FOUND", "UNSUPPORTED", "ACCESS_DENIED", "FAILED")
STATUSES = (CLEAN,) + NOT_CLEAN
"""Every value GuardDuty writes into the tag (Monitoring S3 object scans, GuardDuty User Guide)."""

EXISTING_TAG = f"s3:ExistingObjectTag/{SCAN_TAG_KEY}"
REQUEST_TAG_KEYS = "s3:RequestObjectTagKeys"

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectTorrent", "s3:GetObjectVersion", "s3:GetObjectVersionTorrent")
"""Every action that returns an object's content (SelectObjectContent is s3:GetObject)."""
TAG_WRITE_ACTIONS = (
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
)
REQUEST_TAG_ACTIONS = ("s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging")
"""Actions whose request can carry tags (``x-amz-tagging`` on PutObject/CreateMultipartUpload)."""
REPLICATION_WRITE_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags")

GUARDDUTY_PLAN_PRINCIPAL = "malware-protection-plan.guardduty.amazonaws.com"
VALIDATION_OBJECT_KEY = "malware-protection-resource-validation-object"
"""GuardDuty writes this object when the plan is created, to prove it can reach the bucket."""
MANAGED_RULE_PREFIX = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3"
EVENT_SOURCE = "aws.guardduty"
SCAN_RESULT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"

_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$")
_BUCKET_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def _checked(value: object, pattern: re.Pattern[str], what: str) -> str:
    """Refuse a missing or malformed ARN: ``None`` would become a grant on ``"None"``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} must look like {pattern.pattern}, got {value!r}")
    return value


def gated_objects(bucket_arn: str, prefixes: Sequence[str] = ()) -> list[str]:
    """The object ARNs GuardDuty scans: the configured prefixes, or the whole bucket."""
    bucket = _checked(bucket_arn, _BUCKET_ARN, "bucket_arn")
    return [f"{bucket}/{prefix}*" for prefix in prefixes] or [f"{bucket}/*"]


def scan_gate_statements(
    *,
    bucket_arn: str,
    scanner_role_arn: str,
    prefixes: Sequence[str] = (),
    reviewer_role_arn: Optional[str] = None,
    ungated_reader_arns: Sequence[str] = (),
) -> list[Statement]:
    """The data bucket's gate: reads need a clean tag; only the scanner writes the tag."""
    scanner = _checked(scanner_role_arn, _ROLE_ARN, "scanner_role_arn")
    readers_excepted = [scanner]
    for arn in ([reviewer_role_arn] if reviewer_role_arn else []) + list(ungated_reader_arns):
        readers_excepted.append(_checked(arn, _ROLE_ARN, "reviewer/ungated role ARN"))
    objects = gated_objects(bucket_arn, prefixes)
    not_scanner = {"ArnNotEquals": {"aws:PrincipalArn": scanner}}
    return [
        {
            "Sid": "DenyReadingObjectsNotScannedClean",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(READ_ACTIONS),
            "Resource": objects,
            "Condition": {
                # A missing tag (not scanned yet) matches StringNotEquals too: refused.
                "StringNotEquals": {EXISTING_TAG: CLEAN},
                "ArnNotEquals": {"aws:PrincipalArn": sorted(set(readers_excepted))},
            },
        },
        {
            "Sid": "DenyScanTagInRequests",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(REQUEST_TAG_ACTIONS),
            "Resource": f"{_checked(bucket_arn, _BUCKET_ARN, 'bucket_arn')}/*",
            "Condition": {"ForAnyValue:StringEquals": {REQUEST_TAG_KEYS: [SCAN_TAG_KEY]}, **not_scanner},
        },
        {
            "Sid": "DenyRetaggingScannedObjects",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(TAG_WRITE_ACTIONS),
            "Resource": f"{bucket_arn}/*",
            "Condition": {"Null": {EXISTING_TAG: "false"}, **not_scanner},
        },
        {
            "Sid": "DenyReplicatingIntoTheGatedBucket",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(REPLICATION_WRITE_ACTIONS),
            "Resource": f"{bucket_arn}/*",
        },
    ]


def scanner_trust_policy(account_id: str) -> dict:
    """Only GuardDuty Malware Protection, acting for this account, assumes the scanner role.

    ``aws:SourceAccount`` stops another account's plan from using our role (confused
    deputy). If GuardDuty ever left it out, creating the plan would fail at once (GuardDuty
    checks the role when the plan is created), not silently later."""
    if not re.fullmatch(r"\d{12}", str(account_id)):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    return document(
        [
            {
                "Sid": "AllowGuardDutyMalwareProtectionForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": GUARDDUTY_PLAN_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


def scanner_role_policy(
    *, bucket_arn: str, kms_key_arn: str, account_id: str, region: str, partition: str = "aws"
) -> dict:
    """The permissions GuardDuty documents for a plan's role, for this bucket and key only.

    Source: "Create or update IAM role policy", GuardDuty User Guide
    (https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html):
    its managed EventBridge rule, the bucket's EventBridge notification, listing, reading
    and tagging objects, writing its validation object, and the data key through S3. The
    documented ``kms:ViaService`` is ``s3.*.amazonaws.com``; ours names this region's S3.
    """
    bucket = _checked(bucket_arn, _BUCKET_ARN, "bucket_arn")
    key = _checked(kms_key_arn, _KEY_ARN, "kms_key_arn")
    managed_rule = f"arn:{partition}:events:{region}:{account_id}:rule/{MANAGED_RULE_PREFIX}*"
    return document(
        [
            {
                "Sid": "AllowManagedRuleToSendS3EventsToGuardDuty",
                "Effect": "Allow",
                "Action": ["events:DeleteRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets"],
                "Resource": managed_rule,
                "Condition": {"StringLike": {"events:ManagedBy": GUARDDUTY_PLAN_PRINCIPAL}},
            },
            {
                "Sid": "AllowGuardDutyToMonitorEventBridgeManagedRule",
                "Effect": "Allow",
                "Action": ["events:DescribeRule", "events:ListTargetsByRule"],
                "Resource": managed_rule,
            },
            {
                "Sid": "AllowPostScanTag",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectTagging",
                    "s3:GetObjectVersionTagging",
                    "s3:PutObjectTagging",
                    "s3:PutObjectVersionTagging",
                ],
                "Resource": f"{bucket}/*",
            },
            {
                "Sid": "AllowEnableS3EventBridgeEvents",
                "Effect": "Allow",
                "Action": ["s3:GetBucketNotification", "s3:PutBucketNotification"],
                "Resource": bucket,
            },
            {
                "Sid": "AllowPutValidationObject",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket}/{VALIDATION_OBJECT_KEY}",
            },
            {
                "Sid": "AllowCheckBucketOwnership",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
            },
            {
                "Sid": "AllowMalwareScan",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{bucket}/*",
            },
            {
                "Sid": "AllowDecryptForMalwareScan",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ]
    )


def scan_alert_event_pattern(bucket_name: str, statuses: Sequence[str] = NOT_CLEAN) -> dict:
    """EventBridge pattern: a scan result for this bucket whose status is not clean."""
    unknown = sorted(set(statuses) - set(NOT_CLEAN))
    if unknown or not statuses:
        raise ValueError(f"alert statuses must be among {NOT_CLEAN}, got {list(statuses)}")
    return {
        "source": [EVENT_SOURCE],
        "detail-type": [SCAN_RESULT_DETAIL_TYPE],
        "detail": {
            "s3ObjectDetails": {"bucketName": [bucket_name]},
            "scanResultDetails": {"scanResultStatus": list(statuses)},
        },
    }


def event_rule_arn(region: str, account_id: str, rule_name: str, partition: str = "aws") -> str:
    """A rule's ARN on the default bus, from its explicit name (known before it exists)."""
    return f"arn:{partition}:events:{region}:{account_id}:rule/{rule_name}"
