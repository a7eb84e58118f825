"""The project's one reading of IAM policies: evaluation, action expansion, public access.

The pack's rules, the security tests (``tests/access/evaluator.py`` re-exports this module)
and the access matrix all ask this module what a policy means, so they cannot drift apart.
It has no dependency beyond the standard library (the pack must install with only
``policies/requirements.txt``); the IAM action list it expands wildcards against is
``data/iam_actions.json.gz``, derived from the IAM definition that ``parliament`` ships
(``derive_action_table``; a test proves the file equals parliament's data).

Evaluation follows AWS's documented "policy evaluation logic":

* an explicit Deny in any policy wins;
* same account: the identity policy (inside the permissions boundary) or a resource
  policy naming the principal itself allows;
* other account: both the identity policy and the resource policy must allow;
* KMS keys and role trust: the key/trust policy must allow, naming the principal (enough)
  or its account (then the identity policy must allow too);
* anonymous callers: only a resource-policy Allow to ``"*"``; service callers: only a
  resource-policy statement naming the service (or ``"*"``).

Conditions: every operator of the IAM reference (String*, Numeric*, Date*, Bool,
BinaryEquals, IpAddress/NotIpAddress, Arn*, Null), each with ``...IfExists``, and the
``ForAllValues:``/``ForAnyValue:`` set qualifiers; policy variables (``${aws:...}``,
``${*}``, ``${?}``, ``${$}``) in resources and condition values. ``NotAction``,
``NotResource`` and ``NotPrincipal`` are modelled. An operator outside the reference
raises, never guesses.

Why not principalmapper alone: it matches resources case-insensitively (S3 keys are
case-sensitive), does not substitute policy variables inside condition values, and treats
a missing key under ``StringNotLike`` as "no match" (IAM: match). The tests keep it as a
second opinion and show each gap on a concrete request.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

Context = Mapping[str, Any]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
ACTION_TABLE_PATH = Path(__file__).resolve().parent / "data" / "iam_actions.json.gz"

ACCESS_WRITE = "Write"
ACCESS_PERMISSIONS = "Permissions management"
ACCESS_TAGGING = "Tagging"
ACCESS_READ = "Read"
ACCESS_LIST = "List"


# ---------------------------------------------------------------------------------------
# Callers and requests
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """Who sends the request: a role session, a service, or nobody (anonymous)."""

    name: str
    account: Optional[str] = None
    arn: Optional[str] = None
    """The role (or user) ARN; for a role session IAM compares this in Principal."""
    identity: tuple[dict, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    """Principal tags: the role's tags overridden by the session tags."""
    boundary: Optional[dict] = None
    service: Optional[str] = None
    anonymous: bool = False


@dataclass(frozen=True)
class Check:
    """One authorisation a request needs: an action on a resource, under a context."""

    action: str
    resource: str
    context: Mapping[str, Any]
    resource_policy: Optional[dict]
    resource_owner: str


def request_context(caller: Caller, context: Context) -> dict[str, Any]:
    """The request's context keys plus what IAM derives from the caller (case-insensitive)."""
    merged: dict[str, Any] = {}
    if caller.arn:
        merged["aws:principalarn"] = caller.arn
    if caller.account:
        merged["aws:principalaccount"] = caller.account
    if caller.service:
        merged["aws:principalservicename"] = caller.service
    for key, value in caller.tags.items():
        merged[f"aws:principaltag/{key}".lower()] = value
    for key, value in context.items():
        merged[key.lower()] = value
    return merged


# ---------------------------------------------------------------------------------------
# Wildcards and policy variables
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _substitute(text: str, context: Mapping[str, Any]) -> Optional[str]:
    """Replace ``${key}`` with the context value, escaped; None if a key is missing."""
    if "${" not in text:
        return text
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        key = match.group(1)
        if key in ("*", "?", "$"):
            return {"*": "\x00", "?": "\x01", "$": "$"}[key]
        name, _, default = key.partition(", ")
        found = context.get(name.strip().lower())
        if found is None and default:
            found = default.strip().strip("'\"")
        if found is None or isinstance(found, list):
            missing = True
            return ""
        return str(found).replace("*", "\x00").replace("?", "\x01")

    result = _VARIABLE.sub(value, text)
    return None if missing else result


@lru_cache(maxsize=8192)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "\x00":
            parts.append(re.escape("*"))
        elif char == "\x01":
            parts.append(re.escape("?"))
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("^" + "".join(parts) + "$", flags)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard match; literal ``*``/``?`` from substituted values stay literal."""
    return _like_regex(pattern, ignore_case).match(value) is not None


def _literal(expanded: str) -> str:
    return expanded.replace("\x00", "*").replace("\x01", "?")


def _listify(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------
# The IAM action list (from parliament's IAM definition) and wildcard expansion
# ---------------------------------------------------------------------------------------

def derive_action_table(definition: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list]]:
    """``{prefix: {Action: [access level, sorted resource types]}}`` from parliament's
    ``iam_definition.json`` (services sharing a prefix are merged, first level wins)."""
    table: dict[str, dict[str, list]] = {}
    for service in definition:
        actions = table.setdefault(service["prefix"], {})
        for privilege in service["privileges"]:
            types = {rt["resource_type"].rstrip("*") for rt in privilege.get("resource_types", [])
                     if rt.get("resource_type")}
            entry = actions.setdefault(privilege["privilege"], [privilege["access_level"], []])
            entry[1] = sorted(set(entry[1]) | types)
    return table


def encode_action_table(table: Mapping[str, Any]) -> bytes:
    """The bytes of ``data/iam_actions.json.gz`` for ``table``: one JSON text per service
    prefix inside a JSON object (so a rule that needs only ``s3`` parses only ``s3``),
    gzip without a timestamp so the file is reproducible."""
    outer = {prefix: json.dumps(table[prefix], sort_keys=True, separators=(",", ":")) for prefix in sorted(table)}
    return gzip.compress(json.dumps(outer, sort_keys=True, separators=(",", ":")).encode(), mtime=0)


@lru_cache(maxsize=1)
def _raw_table() -> dict[str, str]:
    return json.loads(gzip.decompress(ACTION_TABLE_PATH.read_bytes()))


@lru_cache(maxsize=None)
def service_actions(prefix: str) -> dict[str, list]:
    """``{Action: [access level, resource types]}`` of one service prefix (lower case)."""
    raw = _raw_table().get(prefix)
    return json.loads(raw) if raw else {}


def action_table() -> dict[str, dict[str, list]]:
    """The whole list, ``{prefix: {Action: [access level, resource types]}}``."""
    return {prefix: service_actions(prefix) for prefix in _raw_table()}


@lru_cache(maxsize=None)
def _service_index(prefix: str) -> dict[str, str]:
    """``{action lower: "prefix:Action"}`` of one service, for case-insensitive lookups."""
    return {name.lower(): f"{prefix}:{name}" for name in service_actions(prefix)}


def _all_actions() -> list[str]:
    return [a for prefix in _raw_table() for a in _service_index(prefix).values()]


def action_info(action: str) -> Optional[tuple[str, tuple[str, ...]]]:
    """``(access level, resource types)`` of a known action, else None."""
    prefix, _, name = action.partition(":")
    canonical = _service_index(prefix.lower()).get(name.lower())
    if canonical is None:
        return None
    level, types = service_actions(prefix.lower())[canonical.split(":", 1)[1]]
    return level, tuple(types)


def access_level(action: str) -> Optional[str]:
    info = action_info(action)
    return info[0] if info else None


@lru_cache(maxsize=4096)
def expand_action(pattern: str) -> frozenset[str]:
    """Every known action ``pattern`` matches (``"*"``, ``"s3:*Object*"``, ``"s3:Put*"``).

    An exact name that is not in the list stays itself, so a new action AWS added after
    the list was derived is still judged by name.
    """
    regex = _glob(pattern, True)
    prefix, sep, _ = pattern.partition(":")
    if "*" not in pattern and "?" not in pattern:
        info = _service_index(prefix.lower()).get(pattern.split(":", 1)[-1].lower()) if sep else None
        return frozenset({info or pattern})
    if sep and "*" not in prefix and "?" not in prefix:
        candidates: Iterable[str] = _service_index(prefix.lower()).values()
    else:
        candidates = _all_actions()
    return frozenset(a for a in candidates if regex.match(a))


def statement_action_set(statement: Mapping[str, Any]) -> frozenset[str]:
    """The known actions a statement covers (``NotAction``: every other known action)."""
    if "NotAction" in statement:
        excluded = set().union(*(expand_action(p) for p in _listify(statement["NotAction"]) if isinstance(p, str)))
        return frozenset(a for a in _all_actions() if a not in excluded)
    found: set[str] = set()
    for pattern in _listify(statement.get("Action")):
        if isinstance(pattern, str):
            found |= expand_action(pattern)
    return frozenset(found)


# ---------------------------------------------------------------------------------------
# Statement matching
# ---------------------------------------------------------------------------------------

def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(_glob(p, True).match(action) for p in _listify(statement["Action"]))
    if "NotAction" in statement:
        return not any(_glob(p, True).match(action) for p in _listify(statement["NotAction"]))
    raise ValueError(f"statement {statement.get('Sid')!r} has neither Action nor NotAction")


def _resource_matches(statement: Mapping[str, Any], resource: str, context: Mapping[str, Any]) -> bool:
    """Resources are case-sensitive; a pattern naming a missing variable matches nothing."""

    def any_match(patterns: Iterable[str]) -> bool:
        for pattern in patterns:
            expanded = _substitute(pattern, context)
            if expanded is not None and _like(expanded, resource):
                return True
        return False

    if "Resource" in statement:
        return any_match(_listify(statement["Resource"]))
    if "NotResource" in statement:
        return not any_match(_listify(statement["NotResource"]))
    return True  # trust policies have no Resource element


_NEGATED = frozenset({
    "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
    "NumericNotEquals", "DateNotEquals", "NotIpAddress",
})
OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
})
_COMPARE = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a == b,  # negation applied by the caller
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _date(value: Any) -> datetime:
    text = str(value)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _arn_like(pattern: str, value: str) -> bool:
    """ARN operators compare the six colon-separated parts, each with wildcards."""
    left, right = pattern.split(":", 5), value.split(":", 5)
    if len(left) != 6 or len(right) != 6:
        return _like(pattern, value)
    return all(_like(p, v) for p, v in zip(left, right))


def _value_matches(operator: str, policy_value: str, value: Any, context: Mapping[str, Any]) -> bool:
    """Does one request value match one policy value (before negation)?"""
    if operator.startswith(("String", "Arn")):
        expanded = _substitute(policy_value, context)
        if expanded is None:
            return False
        value = str(value)
        if operator in ("StringEquals", "StringNotEquals"):
            return _literal(expanded) == value
        if operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
            return _literal(expanded).lower() == value.lower()
        if operator in ("StringLike", "StringNotLike"):
            return _like(expanded, value)
        return _arn_like(expanded, value)
    if operator == "Bool":
        return str(policy_value).lower() == str(value).lower()
    if operator == "BinaryEquals":
        return str(policy_value) == str(value)
    if operator in ("IpAddress", "NotIpAddress"):
        try:
            return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(policy_value), strict=False)
        except ValueError:
            return False
    for family, parse in (("Numeric", float), ("Date", _date)):
        if operator.startswith(family):
            try:
                left, right = parse(value), parse(policy_value)
            except (TypeError, ValueError):
                return False
            return _COMPARE[operator[len(family):]](left, right)
    raise ValueError(f"condition operator {operator!r} is not an IAM operator")


def _one_value(operator: str, policy_values: Sequence[str], value: Any, context: Mapping[str, Any]) -> bool:
    """The operator's verdict for one request value against the policy's value list."""
    hit = any(_value_matches(operator, p, value, context) for p in policy_values)
    return not hit if operator in _NEGATED else hit


def parse_operator(raw_operator: str) -> tuple[str, str, bool]:
    """``(qualifier, operator, if_exists)``; raises on anything outside the reference."""
    qualifier, _, operator = str(raw_operator).rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ValueError(f"condition qualifier {qualifier!r} is not an IAM set operator")
    if_exists = operator.endswith("IfExists") and operator != "Null"
    operator = operator.removesuffix("IfExists") if if_exists else operator
    if operator not in OPERATORS:
        raise ValueError(f"condition operator {raw_operator!r} is not an IAM operator")
    return qualifier, operator, if_exists


def _condition_matches(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    """All clauses must hold (AND across operators and keys, OR across a key's values)."""
    for raw_operator, entries in (condition or {}).items():
        qualifier, operator, if_exists = parse_operator(raw_operator)
        for key, policy_values in entries.items():
            policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _listify(policy_values)]
            present = context.get(key.lower())
            if operator == "Null":
                is_null = present is None or present == "" or present == []
                if (policy_values[0].lower() == "true") != is_null:
                    return False
                continue
            values = [] if present is None else list(_listify(present))
            if qualifier == "ForAllValues":
                if not all(_one_value(operator, policy_values, v, context) for v in values):
                    return False
                continue
            if qualifier == "ForAnyValue":
                if not any(_one_value(operator, policy_values, v, context) for v in values):
                    return False
                continue
            if not values:
                if not (if_exists or operator in _NEGATED):
                    return False
                continue
            if operator in _NEGATED:
                if not all(_one_value(operator, policy_values, v, context) for v in values):
                    return False
            elif not any(_one_value(operator, policy_values, v, context) for v in values):
                return False
    return True


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    return (
        _action_matches(statement, action)
        and _resource_matches(statement, resource, context)
        and _condition_matches(statement.get("Condition") or {}, context)
    )


def _statements(document: Optional[Mapping[str, Any]], effect: str) -> list[Mapping[str, Any]]:
    if not document:
        return []
    return [s for s in _listify(document.get("Statement")) if isinstance(s, Mapping) and s.get("Effect") == effect]


# ---------------------------------------------------------------------------------------
# Principals
# ---------------------------------------------------------------------------------------

def principal_entries(value: Any) -> list[tuple[str, str]]:
    """``(kind, value)`` pairs of a Principal/NotPrincipal element; ``"*"`` is ``("AWS", "*")``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [("AWS", value)]
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for kind, values in value.items():
            for item in _listify(values):
                if isinstance(item, str):
                    pairs.append((str(kind), item))
    return pairs


def account_of(principal: str) -> Optional[str]:
    """The account a principal value names: ``123456789012``, ``arn:aws:iam::123...:x``."""
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = re.match(r"arn:[^:]+:(?:iam|sts)::([^:]*):", principal)
    return match.group(1) if match else None


def _names_caller(kind: str, value: str, caller: Caller) -> Optional[str]:
    if value == "*" and kind in ("AWS", "*"):
        return "direct"
    if caller.service:
        return "direct" if kind == "Service" and value == caller.service else None
    if caller.anonymous or kind != "AWS":
        return None
    if value == caller.arn:
        return "direct"
    if caller.account and value in (caller.account, f"arn:aws:iam::{caller.account}:root"):
        return "account"
    return None


def _principal_match(statement: Mapping[str, Any], caller: Caller) -> Optional[str]:
    """``"direct"`` (names the caller or ``*``), ``"account"`` (its account) or None.

    ``NotPrincipal`` matches every caller it does not name (a named account also excludes
    its principals, as IAM's documentation warns).
    """
    if "NotPrincipal" in statement:
        named = [_names_caller(k, v, caller) for k, v in principal_entries(statement["NotPrincipal"])]
        return None if any(named) else "direct"
    found = [_names_caller(k, v, caller) for k, v in principal_entries(statement.get("Principal"))]
    return "direct" if "direct" in found else "account" if "account" in found else None


def _allows(documents: Sequence[Optional[dict]], action: str, resource: str, context: Mapping[str, Any], effect: str) -> bool:
    return any(
        statement_applies(s, action, resource, context)
        for document in documents
        for s in _statements(document, effect)
    )


def authorize(caller: Caller, check: Check) -> bool:
    """Would AWS allow ``check`` for ``caller``? See the module docstring for the rules."""
    context = request_context(caller, check.context)
    action, resource = check.action, check.resource
    resource_matches = []
    for statement in _listify((check.resource_policy or {"Statement": []}).get("Statement")):
        how = _principal_match(statement, caller)
        if how and statement_applies(statement, action, resource, context):
            resource_matches.append((statement["Effect"], how))
    own = list(caller.identity) + ([caller.boundary] if caller.boundary else [])
    if any(effect == "Deny" for effect, _ in resource_matches):
        return False
    if _allows(own, action, resource, context, "Deny"):
        return False
    granted = {how for effect, how in resource_matches if effect == "Allow"}
    if caller.anonymous or caller.service:
        return "direct" in granted
    identity = _allows(caller.identity, action, resource, context, "Allow") and (
        caller.boundary is None or _allows([caller.boundary], action, resource, context, "Allow")
    )
    service = action.split(":", 1)[0].lower()
    same_account = caller.account == check.resource_owner
    if service in ("kms", "sts"):
        if "direct" in granted and same_account:
            return True
        return bool(granted) and identity
    if same_account:
        return identity or "direct" in granted
    return identity and bool(granted)


def applicable_denies(document: Optional[Mapping[str, Any]], caller: Caller,
                      context: Context) -> tuple[list[Mapping[str, Any]], dict[str, Any]]:
    """The Deny statements of a resource policy that name ``caller`` and whose conditions
    hold under ``context``, with the merged context: conditions do not depend on the action
    or resource, so coverage over many actions asks ``refuses`` only."""
    merged = request_context(caller, context)
    found = [s for s in _statements(document, "Deny")
             if _principal_match(s, caller) and _condition_matches(s.get("Condition") or {}, merged)]
    return found, merged


def refuses(denies: Sequence[Mapping[str, Any]], action: str, resource: str, merged: Mapping[str, Any]) -> bool:
    return any(_action_matches(s, action) and _resource_matches(s, resource, merged) for s in denies)


def denied_by(document: Optional[Mapping[str, Any]], caller: Caller, action: str, resource: str,
              context: Context) -> Optional[Mapping[str, Any]]:
    """The first Deny statement of a resource policy that refuses this request, if any."""
    merged = request_context(caller, context)
    for statement in _statements(document, "Deny"):
        if _principal_match(statement, caller) and statement_applies(statement, action, resource, merged):
            return statement
    return None


# ---------------------------------------------------------------------------------------
# Public and cross-account grants, as S3 Block Public Access and Access Analyzer define them
# ---------------------------------------------------------------------------------------

RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce",
    "aws:SourceIp", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid",
    "s3:DataAccessPointArn", "s3:DataAccessPointAccount", "kms:CallerAccount",
))
"""Condition keys whose fixed values make a ``*`` principal non-public ("The meaning of
public", S3 user guide; IAM Access Analyzer adds the principal and org keys). A wildcard
or a policy variable in the value, an ``...IfExists`` or negated operator, or any other
key (``aws:UserAgent``, ``aws:Referer``: set by the caller) does not."""
_FIXED_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals",
                              "ArnLike", "IpAddress"})


def _fixed(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not any(c in value for c in "*?") and "${" not in value


def _fixed_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_network(value, strict=False).prefixlen > 0
    except ValueError:
        return False


def restricting_conditions(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{key lower: fixed values}`` of the conditions that confine a statement to known
    callers; a key appears only when every value of its clause is fixed."""
    found: dict[str, list[str]] = {}
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return found
    for raw_operator, clauses in condition.items():
        try:
            qualifier, operator, if_exists = parse_operator(raw_operator)
        except ValueError:
            continue
        if qualifier or if_exists or operator not in _FIXED_OPERATORS or not isinstance(clauses, Mapping):
            continue
        for key, values in clauses.items():
            key_lower = str(key).lower()
            if key_lower not in RESTRICTING_KEYS:
                continue
            values = _listify(values)
            check = _fixed_ip if key_lower == "aws:sourceip" else _fixed
            if values and all(check(v) for v in values):
                found.setdefault(key_lower, []).extend(str(v) for v in values)
    return found


def is_wildcard_principal(kind: str, value: str) -> bool:
    if kind not in ("AWS", "*", "CanonicalUser", "Federated"):
        return False
    return "*" in value or "?" in value


def public_reason(statement: Mapping[str, Any]) -> Optional[str]:
    """Why an Allow statement is public by AWS's definition, or None if it is not."""
    if statement.get("Effect") != "Allow":
        return None
    if "NotPrincipal" in statement:
        return "Allow with NotPrincipal grants everyone it does not name"
    wild = [v for k, v in principal_entries(statement.get("Principal")) if is_wildcard_principal(k, v)]
    if not wild:
        return None
    if restricting_conditions(statement):
        return None
    return (f"Allow to Principal {wild[0]!r} without a fixed value of a restricting condition key "
            "(aws:SourceArn, aws:SourceAccount, aws:PrincipalAccount, aws:PrincipalOrgID, "
            "aws:SourceVpc(e), aws:SourceIp other than /0, ...)")


def granted_accounts(statement: Mapping[str, Any]) -> set[str]:
    """The accounts an Allow statement grants to: named AWS principals' accounts, and for a
    ``*``/service principal the accounts its account-pinning conditions name."""
    accounts: set[str] = set()
    wildcard = False
    for kind, value in principal_entries(statement.get("Principal")):
        if kind == "AWS":
            if "*" in value:
                wildcard = True
            elif account_of(value):
                accounts.add(account_of(value) or "")
    pins = restricting_conditions(statement)
    if wildcard or not accounts:
        for key in ("aws:principalaccount", "aws:sourceaccount", "kms:calleraccount", "aws:sourceowner"):
            accounts.update(pins.get(key, []))
        for key in ("aws:principalarn", "aws:sourcearn"):
            for arn in pins.get(key, []):
                parts = arn.split(":")
                if len(parts) > 4 and re.fullmatch(r"\d{12}", parts[4]):
                    accounts.add(parts[4])
    return accounts
