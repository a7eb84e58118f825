"""Rules over every resource policy of a stack at once: one policy per target, and no grant
to another account unless the stack's pack config trusts it.

Both need the whole stack: which resources write the same bucket/key/topic policy, and
which account is this stack's own (``effective.own_account``).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import effective
from . import iam_engine as engine
from .common import UNKNOWN, RuleInfo, config_value, exemptions_schema, stack_policy, statement_label, statements, subject
from .joins import StackIndex

ONE_POLICY_INFO = RuleInfo(
    name="one-resource-policy-per-target",
    summary="Each bucket, KMS key and SNS topic has at most one resource writing its policy: AWS "
    "keeps one policy per target, so a second BucketPolicy/KeyPolicy/TopicPolicy (or an inline "
    "policy beside one) silently replaces the first and its denies.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Merge the statements into one policy document and attach it with a single "
    "policy resource per bucket, key or topic.",
)


def _validate_one_policy(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    exempt = set(config_value(args, "exemptResources", []) or [])
    for target, kind, writers in effective.policy_writers(index):
        if len(writers) > 1 and target.name not in exempt:
            names = ", ".join(f"{w.type.split(':')[-1]} '{w.name}'" for w in writers)
            report(ONE_POLICY_INFO.message(
                subject(target.type, target.name),
                f"{len(writers)} resources write its {kind} ({names}); AWS keeps only one, so whichever "
                f"is applied last ('{writers[-1].name}' in this program) replaces the others."), target.urn)


CROSS_ACCOUNT_INFO = RuleInfo(
    name="no-untrusted-cross-account-access",
    summary="No bucket, key, topic or trust policy grants to a principal of another account (or to "
    "'*' or a service limited only to another account) unless that account is in this stack's "
    "trustedAccounts.",
    controls=("S3.6",),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Grant only to this account's principals, or add the partner account id to "
    "trustedAccounts in policies/config/<stack>.json after review.",
)

CROSS_ACCOUNT_SCHEMA = exemptions_schema({
    "trustedAccounts": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Other AWS account ids this stack may grant access to.",
    },
    "accountId": {
        "type": "string",
        "default": "",
        "description": "This stack's AWS account id (default: the account of the stack's own ARNs).",
    },
})


def cross_account_problems(document: Any, own: str, trusted: set[str]) -> list[str]:
    problems = []
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        foreign = sorted(a for a in engine.granted_accounts(statement) if a not in trusted and a != own)
        if foreign:
            problems.append(f"{statement_label(index, statement)}: grants to account(s) {', '.join(foreign)}, "
                            f"not this account ({own}) and not in trustedAccounts.")
    return problems


def _validate_cross_account(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    configured = config_value(args, "accountId", "")
    own = effective.own_account(index, configured if isinstance(configured, str) else None)
    if own is None:
        return
    trusted = set(config_value(args, "trustedAccounts", []) or [])
    exempt = set(config_value(args, "exemptResources", []) or [])
    for node, kind, document in effective.all_resource_policies(index):
        if document is None or document is UNKNOWN or document is effective.UNPARSEABLE or node.name in exempt:
            continue
        for problem in cross_account_problems(document, own, trusted):
            report(CROSS_ACCOUNT_INFO.message(f"{subject(node.type, node.name)} ({kind})", problem), node.urn)


POLICIES = [
    stack_policy(ONE_POLICY_INFO, _validate_one_policy),
    stack_policy(CROSS_ACCOUNT_INFO, _validate_cross_account, CROSS_ACCOUNT_SCHEMA),
]
