"""KMS rules: our keys rotate, are not public, cannot be deleted on a whim or lock us out."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from . import iam_engine as engine
from .common import (
    RuleInfo,
    as_list,
    effect,
    principal_values,
    statement_label,
    statements,
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
    summary="Every symmetric customer-managed KMS key has automatic rotation enabled, with a "
    "rotation period of at most 365 days.",
    controls=("KMS.4",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set enable_key_rotation=True on the aws.kms.Key and leave rotation_period_in_days "
    "unset (365) or lower (or run this rule with enforcementLevel 'remediate').",
)


def _rotatable(props: Mapping[str, Any]) -> bool:
    spec = props.get("customerMasterKeySpec")
    usage = props.get("keyUsage")
    return (spec in (None, "", SYMMETRIC_SPEC) or is_unknown(spec)) and usage in (None, "", "ENCRYPT_DECRYPT")


MAX_ROTATION_DAYS = 365


def rotation_problems(props: Mapping[str, Any]) -> list[str]:
    if not _rotatable(props) or is_unknown(props.get("enableKeyRotation")):
        return []
    if props.get("customKeyStoreId"):
        return []
    if not truthy(props.get("enableKeyRotation")):
        return ["automatic key rotation is off (enableKeyRotation is not true)."]
    period = props.get("rotationPeriodInDays")
    if isinstance(period, (int, float)) and period > MAX_ROTATION_DAYS:
        return [f"rotationPeriodInDays is {period:g}; rotate at least every {MAX_ROTATION_DAYS} days."]
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
    fixed = {**props, "enableKeyRotation": True}
    if isinstance(fixed.get("rotationPeriodInDays"), (int, float)) and fixed["rotationPeriodInDays"] > MAX_ROTATION_DAYS:
        fixed["rotationPeriodInDays"] = MAX_ROTATION_DAYS
    return fixed


KEY_POLICY_PUBLIC_INFO = RuleInfo(
    name="kms-key-policy-not-public",
    summary="No key policy is public by AWS's definition, and every service grant is pinned to one "
    "resource or this account by fixed aws:SourceArn / aws:SourceAccount / encryption-context "
    "values (no wildcard distribution, trail or log group).",
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


# ---------------------------------------------------------------------------------------

LEAST_PRIVILEGE_INFO = RuleInfo(
    name="kms-key-policy-least-privilege",
    summary="In every key policy only the administrators (the account root, which delegates to "
    "IAM, and the configured administrator ARNs) get key administration, and no AWS principal "
    "gets cryptographic use except through a service (fixed kms:ViaService) or for one resource's "
    "encryption context (a fixed kms:EncryptionContext value).",
    controls=("KMS.1", "KMS.2"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Keep administration actions (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, ...) in "
    "a statement for the account root / kmsAdminArns only, without cryptographic actions; give "
    "other principals kms:Decrypt/GenerateDataKey only with Condition StringEquals kms:ViaService "
    "s3.<region>.amazonaws.com (no wildcard).",
)

LEAST_PRIVILEGE_SCHEMA = exemptions_schema({
    "administrators": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "ARNs besides the account root allowed key administration (kmsAdminArns).",
    },
})

CRYPTO_ACTIONS = frozenset({
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateMac", "kms:VerifyMac", "kms:Sign",
    "kms:Verify", "kms:DeriveSharedSecret",
})


def _kms_levels(statement: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(administration actions, cryptographic actions) a statement allows."""
    granted = engine.statement_action_set(statement)
    kms_actions = {a for a in granted if a.startswith("kms:")}
    crypto = kms_actions & CRYPTO_ACTIONS
    admin = {a for a in kms_actions - CRYPTO_ACTIONS
             if engine.access_level(a) in (engine.ACCESS_WRITE, engine.ACCESS_PERMISSIONS)}
    return admin, crypto


def _fixed_condition(statement: Mapping[str, Any], predicate) -> bool:
    for raw_operator, clauses in (statement.get("Condition") or {}).items():
        try:
            qualifier, operator, if_exists = engine.parse_operator(raw_operator)
        except ValueError:
            continue
        if qualifier or if_exists or operator not in ("StringEquals", "StringEqualsIgnoreCase", "ArnEquals",
                                                      "StringLike", "ArnLike") or not isinstance(clauses, Mapping):
            continue
        for key, values in clauses.items():
            values = as_list(values)
            if predicate(str(key).lower()) and values and all(engine._fixed(v) for v in values):
                return True
    return False


def least_privilege_problems(document: Any, administrators: list[str]) -> list[str]:
    problems = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        people = [v for k, v in principal_values(statement) if k != "Service"]
        if not people and "NotPrincipal" not in statement:
            continue  # service grants: kms-key-policy-not-public checks their pinning
        label = statement_label(index, statement)
        admin, crypto = _kms_levels(statement)
        allowed_admins = set(administrators)
        outsiders = [p for p in people if not p.endswith(":root") and p not in allowed_admins]
        if admin and (outsiders or "NotPrincipal" in statement):
            problems.append(f"{label}: gives key administration ({', '.join(sorted(admin)[:3])}"
                            f"{', ...' if len(admin) > 3 else ''}) to {', '.join(outsiders) or 'NotPrincipal'}, "
                            "who is not a key administrator.")
        if crypto:
            via = _fixed_condition(statement, lambda k: k == "kms:viaservice")
            context = _fixed_condition(statement, lambda k: k.startswith("kms:encryptioncontext:"))
            if not via and not context:
                problems.append(f"{label}: lets {', '.join(people) or 'everyone'} use the key directly "
                                f"({', '.join(sorted(crypto)[:3])}{', ...' if len(crypto) > 3 else ''}) "
                                "without a fixed kms:ViaService or encryption-context condition.")
    return problems


def _validate_least_privilege(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (KEY, KEY_POLICY, REPLICA_KEY):
        return
    administrators = config_value(args, "administrators", [])
    check_document(LEAST_PRIVILEGE_INFO, report, subject(args.resource_type, args.name),
                   plain(args.props).get("policy"),
                   lambda d: least_privilege_problems(d, administrators if isinstance(administrators, list) else []))


POLICIES = [
    resource_policy(LEAST_PRIVILEGE_INFO, _validate_least_privilege, config_schema=LEAST_PRIVILEGE_SCHEMA),
    resource_policy(ROTATION_INFO, _validate_rotation, remediate=_remediate_rotation),
    resource_policy(KEY_POLICY_PUBLIC_INFO, _validate_key_policy),
    resource_policy(DELETION_INFO, _validate_deletion, config_schema=DELETION_SCHEMA),
    resource_policy(LOCKOUT_INFO, _validate_lockout),
]
