"""IAM rules: least privilege in identity policies and trust policies.

They read every place a policy document can hide: managed ``Policy``, ``RolePolicy``,
``UserPolicy``, ``GroupPolicy`` and a ``Role``'s ``inlinePolicies`` and
``assumeRolePolicy``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from . import iam_engine as engine
from .common import (
    RuleInfo,
    UnparseablePolicy,
    config_value,
    exemptions_schema,
    load_document,
    truthy,
    actions,
    as_list,
    check_document,
    effect,
    grants_action,
    plain,
    principal_values,
    public_allow_statements,
    service_pin_problem,
    service_principals,
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


def _identity_document_validator(info: RuleInfo, problems: Callable[[Any], list[str]]):
    """A resource validator that runs ``problems`` over every identity-policy document of a
    resource (inline, managed or attached) and reports each finding under ``info``."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        props = plain(args.props)
        for label, raw in identity_documents(args.resource_type, args.name, props):
            check_document(info, report, label, raw, problems)

    return validate


_validate_wildcards = _identity_document_validator(WILDCARD_INFO, wildcard_action_problems)


# ---------------------------------------------------------------------------------------

TRUST_INFO = RuleInfo(
    name="iam-no-wildcard-trust",
    summary="No role trust policy is public by AWS's definition ('*' or NotPrincipal without a "
    "fixed value of a restricting key), and a service may assume a role only when pinned to this "
    "account or resource by aws:SourceAccount/aws:SourceArn (configurable exceptions, default EC2).",
    controls=(),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Trust named principals (a service such as lambda.amazonaws.com with "
    "aws:SourceAccount, or a role ARN), or add aws:PrincipalOrgID / aws:PrincipalArn "
    "conditions; require sts:ExternalId or MFA for cross-account uploaders.",
)


DEFAULT_UNPINNED_SERVICES = ["ec2.amazonaws.com", "cloudtrail.amazonaws.com"]
"""EC2 instance profiles and CloudTrail's CloudWatch Logs delivery role: AWS documents their
trust without source conditions (the services do not send them when assuming the role)."""

TRUST_SCHEMA = exemptions_schema({
    "unpinnedServices": {
        "type": "array",
        "items": {"type": "string"},
        "default": DEFAULT_UNPINNED_SERVICES,
        "description": "Service principals that may assume a role without aws:SourceAccount/"
        "aws:SourceArn (EC2 instance profiles and CloudTrail log delivery do not send them).",
    },
})


def trust_problems(document: Any, unpinned_services: Iterable[str] = tuple(DEFAULT_UNPINNED_SERVICES)) -> list[str]:
    """Public trusts (AWS's definition) and service trusts not pinned to this account or
    one resource (confused deputy), except the configured unpinnable services."""
    return [f"{statement_label(index, statement)}: {why}."
            for index, statement, why in public_allow_statements(document, unpinned_services)]


def _validate_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    props = plain(args.props)
    unpinned = config_value(args, "unpinnedServices", DEFAULT_UNPINNED_SERVICES)
    unpinned = (unpinned if isinstance(unpinned, list) else DEFAULT_UNPINNED_SERVICES) + list(PASS_ROLE_SERVICES)
    check_document(TRUST_INFO, report, subject(args.resource_type, args.name),
                   props.get("assumeRolePolicy"), lambda d: trust_problems(d, unpinned))


# ---------------------------------------------------------------------------------------

PASS_ROLE_SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "states.*", "apigateway.amazonaws.com",
                      "events.amazonaws.com", "scheduler.amazonaws.com", "codebuild.amazonaws.com",
                      "glue.amazonaws.com", "batch.amazonaws.com", "sagemaker.amazonaws.com",
                      "firehose.amazonaws.com", "edgelambda.amazonaws.com")
"""Services that take a role only when a principal of this account passes it to them
(``iam:PassRole``: IAM User Guide, "Granting a user permissions to pass a role to an AWS
service", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html). Another
account's resource of the service cannot use the role without that pass, and AWS's own
examples of these trusts carry no source condition (Lambda execution role,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html; ECS task
execution role, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html),
so pinning them is defence in depth (the confused-deputy guidance,
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html), not a gap: the
finding is advisory unless a stack's config makes it mandatory (the project's stacks do)."""

SERVICE_TRUST_INFO = RuleInfo(
    name="iam-service-trust-pinned",
    summary="A role that a service takes when passed to it (Lambda, ECS tasks, Step Functions, ...) is pinned "
    "to this account or resource by aws:SourceAccount/aws:SourceArn as defence in depth; advisory by "
    "default, since iam:PassRole already confines it.",
    controls=(),
    severity=Severity.LOW,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Add Condition StringEquals aws:SourceAccount <this account> (or aws:SourceArn) to the "
    "service's statement in the trust policy.",
)


def service_trust_problems(document: Any) -> list[str]:
    found = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        services = [s for s in service_principals(statement)
                    if s in PASS_ROLE_SERVICES or s.split(".", 1)[0] + ".*" in PASS_ROLE_SERVICES]
        problem = service_pin_problem(statement) if services else None
        if problem:
            found.append(f"{statement_label(index, statement)}: Allow to service {', '.join(services)} {problem}; "
                         "iam:PassRole confines it to this account's principals, pinning is defence in depth.")
    return found


def _validate_service_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    check_document(SERVICE_TRUST_INFO, report, subject(args.resource_type, args.name),
                   plain(args.props).get("assumeRolePolicy"), service_trust_problems)


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


_validate_kms_decrypt = _identity_document_validator(KMS_DECRYPT_INFO, kms_decrypt_problems)


# ---------------------------------------------------------------------------------------

BROAD_WRITE_INFO = RuleInfo(
    name="iam-no-broad-write",
    summary="No identity policy allows an action pattern that expands (against AWS's action "
    "list) to permissions-management actions, write or permissions-management actions on '*' "
    "or on a bucket-name wildcard (several buckets, e.g. the log bucket too), or sts:AssumeRole "
    "on '*'.",
    controls=("IAM.1", "IAM.21"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="List exact actions (s3:GetObject, s3:PutObject, ...) on exact ARNs "
    "(arn:aws:s3:::<data bucket>/*, the tenant role's ARN); no patterns such as s3:Put* or "
    "s3:*Object*, no '*' resources for writes, no bucket-name wildcards.",
)


def _bucket_wildcard(resource: str) -> bool:
    if not resource.startswith("arn:aws:s3:::"):
        return False
    bucket = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    return "*" in bucket or "?" in bucket


def broad_write_problems(document: Any) -> list[str]:
    problems = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow" or "NotAction" in statement:
            continue  # NotAction is iam-no-wildcard-actions' finding
        label = statement_label(index, statement)
        targets = resources(statement) or (["*"] if "NotResource" in statement else [])
        everywhere = [r for r in targets if r == "*" or _bucket_wildcard(r)]
        for pattern in actions(statement):
            expanded = engine.expand_action(pattern)
            levels = {a: engine.access_level(a) for a in expanded}
            permissions = sorted(a for a, level in levels.items() if level == engine.ACCESS_PERMISSIONS)
            writes = sorted(a for a, level in levels.items()
                            if level in (engine.ACCESS_WRITE, engine.ACCESS_PERMISSIONS))
            wildcard = "*" in pattern or "?" in pattern
            if wildcard and permissions:
                problems.append(f"{label}: action pattern {pattern!r} expands to permissions-management "
                                f"action(s) {', '.join(permissions[:4])}"
                                f"{' and more' if len(permissions) > 4 else ''}.")
            elif writes and everywhere:
                problems.append(f"{label}: {pattern!r} allows write action(s) {', '.join(writes[:4])} on "
                                f"{', '.join(everywhere)} (every resource or several buckets).")
            if everywhere and "*" in targets and any(a in expanded for a in ("sts:AssumeRole",)):
                problems.append(f"{label}: sts:AssumeRole on '*' lets the role assume any role that "
                                "trusts its account.")
    return problems


_validate_broad_write = _identity_document_validator(BROAD_WRITE_INFO, broad_write_problems)


# ---------------------------------------------------------------------------------------

TENANT_SCOPE_INFO = RuleInfo(
    name="iam-tenant-scoped-policies",
    summary="A tenant-scoped identity policy (a resource with ${aws:PrincipalTag/<key>}) keeps the "
    "'/' right after the tag variable, and lets the session list the bucket only with an "
    "s3:prefix condition under its own ${aws:PrincipalTag/<key>}/.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Use arn:aws:s3:::<bucket>/${aws:PrincipalTag/tenant_id}/* (never "
    "${aws:PrincipalTag/tenant_id}*, which lets acme reach acme2/) and give s3:ListBucket "
    "Condition StringLike s3:prefix ${aws:PrincipalTag/tenant_id}/*.",
)

_TAG_VARIABLE = re.compile(r"\$\{aws:PrincipalTag/[^}]+\}", re.IGNORECASE)


def tenant_scope_problems(document: Any) -> list[str]:
    problems = []
    scoped = False
    for index, statement in enumerate(statements(document)):
        for resource in resources(statement):
            for match in _TAG_VARIABLE.finditer(resource):
                scoped = True
                if resource[match.end():match.end() + 1] != "/":
                    problems.append(f"{statement_label(index, statement)}: resource {resource!r} has no '/' "
                                    f"after {match.group(0)}, so a tenant reaches every prefix that starts "
                                    "with its id.")
    if not scoped:
        return problems
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow" or not grants_action(statement, "s3:ListBucket"):
            continue
        prefixes = []
        for raw_operator, clauses in (statement.get("Condition") or {}).items():
            try:
                qualifier, operator, if_exists = engine.parse_operator(raw_operator)
            except ValueError:
                continue
            if if_exists or operator not in ("StringLike", "StringEquals") or not isinstance(clauses, Mapping):
                continue
            for key, values in clauses.items():
                if str(key).lower() == "s3:prefix":
                    prefixes.append(as_list(values))
        confined = any(values and all(isinstance(v, str) and _TAG_VARIABLE.match(v)
                                      and v[_TAG_VARIABLE.match(v).end():].startswith("/") for v in values)
                       for values in prefixes)
        if not confined:
            problems.append(f"{statement_label(index, statement)}: s3:ListBucket in a tenant-scoped policy "
                            "without an s3:prefix condition under ${aws:PrincipalTag/...}/ lists every "
                            "tenant's keys.")
    return problems


_validate_tenant_scope = _identity_document_validator(TENANT_SCOPE_INFO, tenant_scope_problems)


# ---------------------------------------------------------------------------------------

SESSION_INFO = RuleInfo(
    name="iam-role-session-limits",
    summary="Roles keep maxSessionDuration within the configured maximum, and (when configured, "
    "as in prod) a role that people assume (trusted account roots or users) requires MFA: "
    "Bool aws:MultiFactorAuthPresent true, not its IfExists form.",
    controls=(),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set max_session_duration to at most the configured seconds and add "
    "Condition {\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}} to trust statements for "
    "account roots and users (config uploaderRequireMfa in prod).",
)

SESSION_SCHEMA = exemptions_schema({
    "maxSessionDurationSeconds": {
        "type": "integer",
        "minimum": 900,
        "maximum": 43200,
        "default": 43200,
        "description": "Longest role session allowed.",
    },
    "requireMfaForPeople": {
        "type": "boolean",
        "default": False,
        "description": "Trust statements for account roots and IAM users must require MFA.",
    },
})


def _requires_mfa(statement: Mapping[str, Any]) -> bool:
    for raw_operator, clauses in (statement.get("Condition") or {}).items():
        try:
            qualifier, operator, if_exists = engine.parse_operator(raw_operator)
        except ValueError:
            continue
        if qualifier or if_exists or not isinstance(clauses, Mapping):
            continue
        for key, values in clauses.items():
            key = str(key).lower()
            vals = [str(v).lower() for v in as_list(values)]
            if key == "aws:multifactorauthpresent" and operator == "Bool" and vals == ["true"]:
                return True
            if key == "aws:multifactorauthage" and operator.startswith("NumericLessThan"):
                return True
    return False


def _people(statement: Mapping[str, Any]) -> list[str]:
    return [v for k, v in principal_values(statement)
            if k == "AWS" and (v.endswith(":root") or ":user/" in v or re.fullmatch(r"\d{12}", v))]


def session_problems(props: Mapping[str, Any], max_seconds: int, require_mfa: bool) -> list[str]:
    problems = []
    duration = props.get("maxSessionDuration")
    if isinstance(duration, (int, float)) and duration > max_seconds:
        problems.append(f"maxSessionDuration is {duration:g} s (maximum {max_seconds} s).")
    if require_mfa:
        try:
            document = load_document(props.get("assumeRolePolicy"))
        except UnparseablePolicy:
            document = None
        for index, statement in enumerate(statements(document)):
            people = _people(statement)
            if effect(statement) == "Allow" and people and grants_action(statement, "sts:AssumeRole") \
                    and not _requires_mfa(statement):
                problems.append(f"{statement_label(index, statement)}: {', '.join(people)} may assume the "
                                "role without MFA (no Bool aws:MultiFactorAuthPresent \"true\").")
    return problems


def _validate_sessions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    max_seconds = int(config_value(args, "maxSessionDurationSeconds", 43200))
    require_mfa = truthy(config_value(args, "requireMfaForPeople", False))
    for problem in session_problems(plain(args.props), max_seconds, require_mfa):
        report(SESSION_INFO.message(subject(args.resource_type, args.name), problem), None)


POLICIES = [
    resource_policy(WILDCARD_INFO, _validate_wildcards),
    resource_policy(TRUST_INFO, _validate_trust, config_schema=TRUST_SCHEMA),
    resource_policy(SERVICE_TRUST_INFO, _validate_service_trust),
    resource_policy(BROAD_WRITE_INFO, _validate_broad_write),
    resource_policy(TENANT_SCOPE_INFO, _validate_tenant_scope),
    resource_policy(SESSION_INFO, _validate_sessions, config_schema=SESSION_SCHEMA),
    resource_policy(KMS_DECRYPT_INFO, _validate_kms_decrypt),
]
