"""KMS rules: our keys rotate, are not public, cannot be deleted on a whim or lock us out."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from .common import (
    RuleInfo,
    check_document,
    config_value,
    exemptions_schema,
    is_unknown,
    plain,
    public_allow_problems,
    resource_policy,
    subject,
    truthy,
)

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
SYMMETRIC_SPEC = "SYMMETRIC_DEFAULT"
AWS_MINIMUM_DELETION_WINDOW_DAYS = 7
AWS_DEFAULT_DELETION_WINDOW_DAYS = 30


ROTATION_INFO = RuleInfo(
    name="kms-key-rotation-enabled",
    summary="Every symmetric customer-managed KMS key has automatic rotation enabled.",
    controls=("KMS.4",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set enable_key_rotation=True on the aws.kms.Key (or run this rule with "
    "enforcementLevel 'remediate').",
)


def _rotatable(props: Mapping[str, Any]) -> bool:
    spec = props.get("customerMasterKeySpec")
    usage = props.get("keyUsage")
    return (spec in (None, "", SYMMETRIC_SPEC) or is_unknown(spec)) and usage in (None, "", "ENCRYPT_DECRYPT")


def rotation_problems(props: Mapping[str, Any]) -> list[str]:
    if not _rotatable(props) or is_unknown(props.get("enableKeyRotation")):
        return []
    if props.get("customKeyStoreId"):
        return []
    if not truthy(props.get("enableKeyRotation")):
        return ["automatic key rotation is off."]
    return []


def _validate_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != KEY:
        return
    for problem in rotation_problems(plain(args.props)):
        report(ROTATION_INFO.message(subject(args.resource_type, args.name), problem), None)


def _remediate_rotation(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
    if args.resource_type != KEY:
        return None
    props = plain(args.props)
    if not rotation_problems(props):
        return None
    return {**props, "enableKeyRotation": True}


KEY_POLICY_PUBLIC_INFO = RuleInfo(
    name="kms-key-policy-not-public",
    summary="No key policy allows '*' or a service without a restricting condition.",
    controls=("KMS.5",),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Name the account root or specific roles as principals; for services add "
    "aws:SourceArn / aws:SourceAccount (or kms:CallerAccount with kms:ViaService).",
)


def key_policy_problems(document: Any) -> list[str]:
    return public_allow_problems(document)


def _validate_key_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (KEY, KEY_POLICY, REPLICA_KEY):
        return
    props = plain(args.props)
    check_document(KEY_POLICY_PUBLIC_INFO, report, subject(args.resource_type, args.name),
                   props.get("policy"), key_policy_problems)


DELETION_INFO = RuleInfo(
    name="kms-key-deletion-window",
    summary="Key deletion waits at least the configured window (default 7 days, the AWS "
    "minimum; unset means AWS's 30), so a scheduled deletion can be cancelled.",
    controls=("KMS.3",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set deletion_window_in_days to at least the configured minimum (30 for prod).",
)

DELETION_SCHEMA = exemptions_schema({
    "minimumDays": {
        "type": "integer",
        "minimum": AWS_MINIMUM_DELETION_WINDOW_DAYS,
        "maximum": 30,
        "default": AWS_MINIMUM_DELETION_WINDOW_DAYS,
        "description": "Shortest allowed deletion window in days.",
    },
})


def deletion_problems(props: Mapping[str, Any], minimum: int) -> list[str]:
    days = props.get("deletionWindowInDays")
    if days is None or is_unknown(days):
        days = AWS_DEFAULT_DELETION_WINDOW_DAYS if days is None else None
    if isinstance(days, (int, float)) and days < minimum:
        return [f"deletion window is {days:g} days (minimum {minimum})."]
    return []


def _validate_deletion(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (KEY, REPLICA_KEY):
        return
    minimum = config_value(args, "minimumDays", AWS_MINIMUM_DELETION_WINDOW_DAYS)
    for problem in deletion_problems(plain(args.props), int(minimum)):
        report(DELETION_INFO.message(subject(args.resource_type, args.name), problem), None)


LOCKOUT_INFO = RuleInfo(
    name="kms-no-lockout-safety-bypass",
    summary="No key or key policy bypasses the policy lockout safety check, which could make "
    "the key unmanageable (and its data unrecoverable).",
    controls=("KMS.3",),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Remove bypass_policy_lockout_safety_check (leave it False) and keep the "
    "account root as a key administrator.",
)


def _validate_lockout(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (KEY, KEY_POLICY, REPLICA_KEY):
        return
    if truthy(plain(args.props).get("bypassPolicyLockoutSafetyCheck")):
        report(LOCKOUT_INFO.message(subject(args.resource_type, args.name),
                                    "bypassPolicyLockoutSafetyCheck is true."), None)


POLICIES = [
    resource_policy(ROTATION_INFO, _validate_rotation, remediate=_remediate_rotation),
    resource_policy(KEY_POLICY_PUBLIC_INFO, _validate_key_policy),
    resource_policy(DELETION_INFO, _validate_deletion, config_schema=DELETION_SCHEMA),
    resource_policy(LOCKOUT_INFO, _validate_lockout),
]
