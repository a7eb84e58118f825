"""IAM rules: least privilege in identity policies and trust policies.

They read every place a policy document can hide: managed ``Policy``, ``RolePolicy``,
``UserPolicy``, ``GroupPolicy`` and a ``Role``'s ``inlinePolicies`` and
``assumeRolePolicy``.
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from .common import (
    RuleInfo,
    actions,
    as_list,
    check_document,
    effect,
    grants_action,
    plain,
    principal_values,
    public_allow_statements,
    resource_policy,
    resources,
    statement_label,
    statements,
    subject,
)

ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
INLINE_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
KMS_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")


def identity_documents(resource_type: str, name: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, raw document) of every identity (permissions) policy on the resource."""
    label = subject(resource_type, name)
    if resource_type == MANAGED_POLICY or resource_type in INLINE_POLICY_TYPES:
        return [(label, props.get("policy"))]
    if resource_type == ROLE:
        found = []
        for index, inline in enumerate(as_list(props.get("inlinePolicies"))):
            if isinstance(inline, Mapping) and inline.get("policy"):
                found.append((f"{label} inline policy {inline.get('name') or index!r}", inline.get("policy")))
        return found
    return []


# ---------------------------------------------------------------------------------------

WILDCARD_INFO = RuleInfo(
    name="iam-no-wildcard-actions",
    summary="No identity policy allows '*' or 'service:*' actions, or uses Allow with NotAction.",
    controls=("IAM.1", "IAM.21"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="List the exact actions the workload needs (e.g. s3:GetObject, s3:PutObject on "
    "the tenant prefix); never '*', 's3:*' or NotAction.",
)


def wildcard_action_problems(document: Any) -> list[str]:
    problems = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        label = statement_label(index, statement)
        if "NotAction" in statement:
            problems.append(f"{label}: Allow with NotAction grants every other action.")
        wild = [a for a in actions(statement) if a == "*" or a.endswith(":*") or a == "*:*"]
        if wild:
            problems.append(f"{label}: allows wildcard action(s) {', '.join(wild)}.")
    return problems


def _validate_wildcards(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    for label, raw in identity_documents(args.resource_type, args.name, props):
        check_document(WILDCARD_INFO, report, label, raw, wildcard_action_problems)


# ---------------------------------------------------------------------------------------

TRUST_INFO = RuleInfo(
    name="iam-no-wildcard-trust",
    summary="No role trust policy lets '*' (any AWS account) or a service assume it without a "
    "restricting condition (no direct FSBP control; IAM Access Analyzer external access).",
    controls=(),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Trust named principals (a service such as lambda.amazonaws.com with "
    "aws:SourceAccount, or a role ARN), or add aws:PrincipalOrgID / aws:PrincipalArn "
    "conditions; require sts:ExternalId or MFA for cross-account uploaders.",
)


def trust_problems(document: Any) -> list[str]:
    problems = []
    for index, statement, why in public_allow_statements(document):
        if all(kind == "Service" for kind, _ in principal_values(statement)) and "NotPrincipal" not in statement:
            continue  # a bare service trust is the norm (lambda.amazonaws.com, ec2.amazonaws.com)
        problems.append(f"{statement_label(index, statement)}: {why}.")
    return problems


def _validate_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    props = plain(args.props)
    check_document(TRUST_INFO, report, subject(args.resource_type, args.name),
                   props.get("assumeRolePolicy"), trust_problems)


# ---------------------------------------------------------------------------------------

KMS_DECRYPT_INFO = RuleInfo(
    name="iam-no-kms-decrypt-on-all-keys",
    summary="No identity policy allows kms:Decrypt or kms:ReEncryptFrom on all KMS keys "
    "(Resource '*').",
    controls=("KMS.1", "KMS.2"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Name the EncryptionKey ARN in Resource (keep the kms:ViaService condition); "
    "never grant decrypt on '*'.",
)


def _matches_every_key(resource: str) -> bool:
    """True for '*' and KMS ARN patterns whose key part is a wildcard."""
    if resource == "*":
        return True
    if not resource.startswith("arn:") or ":kms:" not in resource:
        return False
    return resource.endswith((":*", ":key/*", "/*"))


def kms_decrypt_problems(document: Any) -> list[str]:
    problems = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        granted = [a for a in KMS_DECRYPT_ACTIONS if grants_action(statement, a)]
        if not granted:
            continue
        targets = resources(statement)
        every_key = "NotResource" in statement or any(_matches_every_key(r) for r in targets)
        if every_key:
            problems.append(f"{statement_label(index, statement)}: allows {', '.join(granted)} on all keys.")
    return problems


def _validate_kms_decrypt(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    for label, raw in identity_documents(args.resource_type, args.name, props):
        check_document(KMS_DECRYPT_INFO, report, label, raw, kms_decrypt_problems)


POLICIES = [
    resource_policy(WILDCARD_INFO, _validate_wildcards),
    resource_policy(TRUST_INFO, _validate_trust),
    resource_policy(KMS_DECRYPT_INFO, _validate_kms_decrypt),
]
