"""SNS rules: topics are KMS-encrypted and their policies are not public."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from .common import (
    RuleInfo,
    check_document,
    is_unknown,
    plain,
    public_allow_problems,
    resource_policy,
    subject,
)

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"

ENCRYPTED_INFO = RuleInfo(
    name="sns-topic-encrypted",
    summary="Every SNS topic is encrypted at rest with a customer-managed KMS key (not alias/aws/sns).",
    controls=("SNS.1",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set kms_master_key_id on the aws.sns.Topic to the EncryptionKey ARN (its key "
    "policy must let s3.amazonaws.com use it for the bucket's notifications).",
)


def _validate_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    key = plain(args.props).get("kmsMasterKeyId")
    label = subject(args.resource_type, args.name)
    if not key and not is_unknown(key):
        report(ENCRYPTED_INFO.message(label, "kmsMasterKeyId is not set, so messages are stored unencrypted."), None)
    elif isinstance(key, str) and ("alias/aws/" in key):
        report(ENCRYPTED_INFO.message(label, f"kmsMasterKeyId {key!r} is an AWS-managed key, whose policy "
                                             "cannot be scoped (and S3 cannot publish to the topic with it)."), None)


PUBLIC_INFO = RuleInfo(
    name="sns-topic-policy-not-public",
    summary="No topic policy lets '*' or a service publish or subscribe without aws:SourceArn / "
    "aws:SourceAccount.",
    controls=("SNS.4",),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Allow s3.amazonaws.com only with Condition ArnLike aws:SourceArn = the bucket "
    "ARN and StringEquals aws:SourceAccount = the account.",
)


def topic_policy_problems(document: Any) -> list[str]:
    return public_allow_problems(document)


def _validate_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (TOPIC, TOPIC_POLICY):
        return
    check_document(PUBLIC_INFO, report, subject(args.resource_type, args.name),
                   plain(args.props).get("policy"), topic_policy_problems)


POLICIES = [
    resource_policy(ENCRYPTED_INFO, _validate_encrypted),
    resource_policy(PUBLIC_INFO, _validate_public),
]
