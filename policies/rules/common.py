"""Shared plumbing for the rules: safe property access, policy documents, metadata, joins.

Every rule reads ``args.props`` through ``plain()`` first. The engine hands rules a proxy
that raises ``UnknownValueError`` on any value not known during preview, and provider
defaults that mocks never add may be missing; ``plain()`` turns the proxy into ordinary
dicts and lists with unknowns replaced by the ``UNKNOWN`` marker, so a rule can tell
"absent", "unknown" and "set" apart and never crashes on either of the first two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _is_unknown
from pulumi_policy.secret import Secret

from . import encoding
from . import iam_engine as engine

FRAMEWORK_NAME = "AWS Foundational Security Best Practices"
FRAMEWORK_VERSION = "1.0.0"
FSBP_DOC_URL = "https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html"


class _Unknown:
    """Marker for a value the engine could not know yet (preview of a computed output)."""

    _instance: Optional["_Unknown"] = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or _is_unknown(value)


def plain(value: Any) -> Any:
    """A deep, ordinary copy of ``value``: proxies unwrapped, secrets revealed, unknowns marked."""
    if isinstance(value, Secret):
        return plain(value.value)
    if value is UNKNOWN or _is_unknown(value):
        return UNKNOWN
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(value):
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """``value[p0][p1]...`` or ``default`` when a step is missing; ``UNKNOWN`` propagates."""
    current = value
    for step in path:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(current, Mapping) and isinstance(step, str):
            if step not in current:
                return default
            current = current[step]
        elif isinstance(current, list) and isinstance(step, int):
            if not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            return default
    return default if current is None else current


def as_list(value: Any) -> list[Any]:
    """``None`` -> [], a list -> itself, anything else -> [it] (v7 objects vs V2 lists)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def first_present(props: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present in ``props`` (e.g. ``versioning`` then ``versionings``)."""
    for key in keys:
        if key in props and props[key] is not None:
            return props[key]
    return None


def truthy(value: Any) -> bool:
    """True for ``True`` and ``"true"`` (config and wire values arrive as either)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


# ---------------------------------------------------------------------------------------
# Policy documents (bucket, key, topic, trust and identity policies)
# ---------------------------------------------------------------------------------------

class UnparseablePolicy(ValueError):
    """A policy document that is neither a JSON object nor a mapping."""


def load_document(value: Any) -> Any:
    """The document as a dict, ``None`` when absent, ``UNKNOWN`` when not known yet.

    Documents arrive as JSON strings (``json.dumps`` in an ``apply``) or as dicts; every rule
    reads them in one spelling (``encoding.canonical``), so equivalent documents get equal
    verdicts.
    """
    if value is None or value == "":
        return None
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return encoding.canonical(plain(value))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise UnparseablePolicy(f"policy is not valid JSON ({exc.msg})") from exc
        if not isinstance(parsed, dict):
            raise UnparseablePolicy("policy JSON is not an object")
        return encoding.canonical(parsed)
    raise UnparseablePolicy(f"policy is a {type(value).__name__}, not JSON or an object")


def statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def effect(statement: Mapping[str, Any]) -> str:
    value = statement.get("Effect")
    return value if isinstance(value, str) else ""


def actions(statement: Mapping[str, Any]) -> list[str]:
    return [a for a in as_list(statement.get("Action")) if isinstance(a, str)]


def resources(statement: Mapping[str, Any]) -> list[str]:
    return [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]


def principal_values(statement: Mapping[str, Any], key: str = "Principal") -> list[tuple[str, str]]:
    """``(kind, value)`` pairs: ``"*"`` becomes ``("AWS", "*")``."""
    return engine.principal_entries(statement.get(key))


def is_public_principal(statement: Mapping[str, Any]) -> bool:
    """Everyone: ``"*"``, ``{"AWS": "*"}``, a wildcard ARN, or ``NotPrincipal``."""
    if "NotPrincipal" in statement:
        return True
    return any(engine.is_wildcard_principal(kind, value) for kind, value in principal_values(statement))


def service_principals(statement: Mapping[str, Any]) -> list[str]:
    return [value for kind, value in principal_values(statement) if kind == "Service"]


PIN_KEY_PREFIXES = ("kms:encryptioncontext:",)
"""Besides the public-defining keys, a fixed KMS encryption context (the calling log group,
trail or topic ARN, set by the service) pins a service grant to one resource."""


def _condition_clauses(statement: Mapping[str, Any]) -> list[tuple[str, str, bool, str, list[Any]]]:
    """``(qualifier, operator, if_exists, key lower, values)`` of every clause."""
    found = []
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return found
    for raw_operator, clauses in condition.items():
        try:
            qualifier, operator, if_exists = engine.parse_operator(str(raw_operator))
        except ValueError:
            continue
        if isinstance(clauses, Mapping):
            for key, values in clauses.items():
                found.append((qualifier, operator, if_exists, str(key).lower(), as_list(values)))
    return found


def _is_pin_key(key: str) -> bool:
    return key in engine.RESTRICTING_KEYS or key.startswith(PIN_KEY_PREFIXES)


def service_pin_problem(statement: Mapping[str, Any]) -> Optional[str]:
    """Why an Allow to a service principal is not pinned to one resource or account.

    Pinned: a positive, non-IfExists clause on aws:SourceArn / aws:SourceAccount / ... or a
    KMS encryption-context key, every value fixed. Any wildcard in such a key (a
    distribution, trail, bucket or log group pattern) is reported even beside a fixed pin.
    """
    wild = [f"{key} {value!r}" for _, _, _, key, values in _condition_clauses(statement)
            if _is_pin_key(key) for value in values
            if isinstance(value, str) and ("*" in value or "?" in value or "${" in value)]
    if wild:
        return f"pins the service with a wildcard ({', '.join(wild)}), so any such resource can use it"
    for qualifier, operator, if_exists, key, values in _condition_clauses(statement):
        if qualifier or if_exists or operator not in engine._FIXED_OPERATORS or not _is_pin_key(key):
            continue
        if values and all(engine._fixed(v) for v in values):
            return None
    return ("has no fixed aws:SourceArn / aws:SourceAccount (or KMS encryption context) "
            "condition, so any account's resource of that service could use it (confused deputy)")


def public_allow_statements(
    document: Any, unpinned_services: Iterable[str] = ()
) -> list[tuple[int, Mapping[str, Any], str]]:
    """Allow statements public by AWS's definition, or to a service not pinned to one
    resource or account: ``(index, statement, why)``."""
    allowed_unpinned = set(unpinned_services)
    found = []
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        why = engine.public_reason(statement)
        if why:
            found.append((index, statement, why))
            continue
        services = [s for s in service_principals(statement)
                    if s not in allowed_unpinned and s.split(".", 1)[0] + ".*" not in allowed_unpinned]
        if services:
            problem = service_pin_problem(statement)
            if problem:
                found.append((index, statement, f"Allow to service {', '.join(services)} {problem}"))
    return found


def public_allow_problems(document: Any, unpinned_services: Iterable[str] = ()) -> list[str]:
    """``public_allow_statements`` as report lines, one per statement."""
    return [f"{statement_label(i, s)}: {why}." for i, s, why in public_allow_statements(document, unpinned_services)]


def statement_label(index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index}"


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching (the engine's): case-insensitive, ``*`` and ``?`` wildcards."""
    return engine._glob(pattern, True).match(action) is not None


def grants_action(statement: Mapping[str, Any], action: str) -> bool:
    try:
        return engine._action_matches(statement, action)
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------
# Rule metadata and violation messages
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleInfo:
    """What every rule states about itself, in one place."""

    name: str
    summary: str
    controls: tuple[str, ...]
    severity: Severity
    enforcement: EnforcementLevel
    remediation: str

    @property
    def description(self) -> str:
        controls = ", ".join(self.controls) if self.controls else "no FSBP control"
        return f"[{controls}; severity {self.severity.value}] {self.summary}"

    def framework(self) -> PolicyComplianceFramework:
        return PolicyComplianceFramework(
            name=FRAMEWORK_NAME,
            version=FRAMEWORK_VERSION,
            reference=", ".join(self.controls),
            specification=self.summary,
        )

    def tags(self) -> list[str]:
        return ["securestore", *(f"fsbp:{c}" for c in self.controls)]

    def message(self, subject: str, problem: str, remediation: Optional[str] = None) -> str:
        return f"{subject}: {problem} Remediation: {remediation or self.remediation}"


def exemptions_schema(extra: Optional[dict[str, dict[str, Any]]] = None) -> PolicyConfigSchema:
    properties: dict[str, dict[str, Any]] = {
        "exemptResources": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Logical resource names this rule does not apply to (document why).",
        }
    }
    properties.update(extra or {})
    return PolicyConfigSchema(properties=properties)


def config_value(args: Any, key: str, default: Any) -> Any:
    """A config knob, falling back to the schema default when the engine sent none."""
    config = plain(args.get_config()) or {}
    value = config.get(key, default) if isinstance(config, Mapping) else default
    return default if value is None else value


def is_exempt(args: Any, name: str) -> bool:
    exempt = config_value(args, "exemptResources", [])
    return isinstance(exempt, list) and name in exempt


def resource_policy(
    info: RuleInfo,
    validate: Callable[[ResourceValidationArgs, ReportViolation], None],
    config_schema: Optional[PolicyConfigSchema] = None,
    remediate: Optional[Callable[[ResourceValidationArgs], Optional[Mapping[str, Any]]]] = None,
) -> ResourceValidationPolicy:
    """A ``ResourceValidationPolicy`` carrying the rule's metadata; exemptions are honoured."""

    def guarded(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if is_exempt(args, args.name):
            return
        validate(args, report)

    def guarded_remediate(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
        if remediate is None or is_exempt(args, args.name):
            return None
        return remediate(args)

    return ResourceValidationPolicy(
        name=info.name,
        description=info.description,
        validate=guarded,
        enforcement_level=info.enforcement,
        config_schema=config_schema or exemptions_schema(),
        remediate=guarded_remediate if remediate is not None else None,
        severity=info.severity,
        framework=info.framework(),
        tags=info.tags(),
        remediation_steps=info.remediation,
        url=FSBP_DOC_URL,
    )


def stack_policy(
    info: RuleInfo,
    validate: Callable[[StackValidationArgs, ReportViolation], None],
    config_schema: Optional[PolicyConfigSchema] = None,
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=info.name,
        description=info.description,
        validate=validate,
        enforcement_level=info.enforcement,
        config_schema=config_schema or exemptions_schema(),
        severity=info.severity,
        framework=info.framework(),
        tags=info.tags(),
        remediation_steps=info.remediation,
        url=FSBP_DOC_URL,
    )


def subject(resource_type: str, name: str) -> str:
    return f"{resource_type.split(':')[-1]} '{name}'"


def check_document(
    info: RuleInfo,
    report: ReportViolation,
    label: str,
    raw: Any,
    check: Callable[[Any], Iterable[str]],
    urn: Optional[str] = None,
) -> None:
    """Parse a policy document and report each problem ``check`` finds (or a parse failure)."""
    try:
        document = load_document(raw)
    except UnparseablePolicy as exc:
        report(info.message(label, f"{exc}; it cannot be verified.",
                            "Pass the policy as a JSON object (json.dumps of a dict)."), urn)
        return
    if document is None or document is UNKNOWN:
        return
    for problem in check(document):
        report(info.message(label, problem), urn)
