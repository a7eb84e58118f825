"""A small IAM policy evaluator for exactly the policy language our documents use.

Why a second evaluator next to principalmapper: principalmapper matches resources
case-insensitively (S3 keys are case-sensitive, so it would let ``acme`` read ``ACME/x``),
does not substitute policy variables inside condition values, and treats a missing key
under ``StringNotLike`` as "no match" (IAM: match). ``test_access_matrix`` shows each of
those on a concrete request and proves that both evaluators agree on every other cell.

What is modelled (AWS "policy evaluation logic"):
* an explicit Deny in any policy wins;
* same account: the identity policy (inside the permissions boundary) or a resource
  policy naming the principal itself allows;
* other account: both the identity policy and the resource policy must allow;
* KMS keys and role trust: the key/trust policy must allow, naming the principal (enough)
  or its account (then the identity policy must allow too);
* anonymous callers: only a resource-policy Allow to ``"*"``; service callers: only a
  resource-policy statement naming the service.
Anything outside that language (NotPrincipal, unknown operators) raises, never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence

Context = Mapping[str, Any]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


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
    for key, value in caller.tags.items():
        merged[f"aws:principaltag/{key}".lower()] = value
    for key, value in context.items():
        merged[key.lower()] = value
    return merged


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _substitute(text: str, context: Mapping[str, Any]) -> Optional[str]:
    """Replace ``${key}`` with the context value, escaped; None if a key is missing."""
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        key = match.group(1)
        if key in ("*", "?", "$"):
            return {"*": "\x00", "?": "\x01", "$": "$"}[key]
        found = context.get(key.lower())
        if found is None or isinstance(found, list):
            missing = True
            return ""
        return str(found).replace("*", "\x00").replace("?", "\x01")

    result = _VARIABLE.sub(value, text)
    return None if missing else result


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard match; literal ``*``/``?`` from substituted values stay literal."""
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
    return re.match("^" + "".join(parts) + "$", value, flags) is not None


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(_glob(p, True).match(action) for p in _listify(statement["Action"]))
    if "NotAction" in statement:
        return not any(_glob(p, True).match(action) for p in _listify(statement["NotAction"]))
    raise ValueError(f"statement {statement.get('Sid')!r} has neither Action nor NotAction")


def _resource_matches(statement: dict, resource: str, context: Mapping[str, Any]) -> bool:
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


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NumericNotEquals"}


def _value_matches(operator: str, policy_value: str, value: str, context: Mapping[str, Any]) -> bool:
    if operator.startswith(("String", "Arn")):
        expanded = _substitute(policy_value, context)
        if expanded is None:
            return False
        if operator in ("StringEquals", "StringNotEquals"):
            return expanded.replace("\x00", "*").replace("\x01", "?") == value
        if operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
            return expanded.replace("\x00", "*").replace("\x01", "?").lower() == value.lower()
        if operator in ("StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
            return _like(expanded, value)
    if operator == "Bool":
        return str(policy_value).lower() == str(value).lower()
    if operator.startswith("Numeric"):
        left, right = float(value), float(policy_value)
        return {
            "NumericEquals": left == right,
            "NumericNotEquals": left == right,
            "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right,
            "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }[operator]
    raise ValueError(f"condition operator {operator!r} is not modelled by this evaluator")


def _condition_matches(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    for raw_operator, entries in condition.items():
        qualifier, _, operator = raw_operator.rpartition(":")
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        for key, policy_values in entries.items():
            policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _listify(policy_values)]
            present = context.get(key.lower())
            if operator == "Null":
                is_null = present is None or present == "" or present == []
                if (policy_values[0].lower() == "true") != is_null:
                    return False
                continue
            values = [] if present is None else [str(v) for v in _listify(present)]
            if qualifier == "ForAllValues":
                if not all(any(_value_matches(operator, p, v, context) for p in policy_values) for v in values):
                    return False
                continue
            if qualifier == "ForAnyValue":
                if not any(_value_matches(operator, p, v, context) for p in policy_values for v in values):
                    return False
                continue
            if qualifier:
                raise ValueError(f"condition qualifier {qualifier!r} is not modelled")
            if not values:
                if not (if_exists or operator in _NEGATED):
                    return False
                continue
            hit = any(_value_matches(operator, p, values[0], context) for p in policy_values)
            if hit == (operator in _NEGATED):
                return False
    return True


def statement_applies(statement: dict, action: str, resource: str, context: Mapping[str, Any]) -> bool:
    return (
        _action_matches(statement, action)
        and _resource_matches(statement, resource, context)
        and _condition_matches(statement.get("Condition", {}), context)
    )


def _statements(document: Optional[dict], effect: str) -> list[dict]:
    if not document:
        return []
    return [s for s in _listify(document["Statement"]) if s["Effect"] == effect]


def _principal_match(statement: dict, caller: Caller) -> Optional[str]:
    """``"direct"`` (names the caller or ``*``), ``"account"`` (its account) or None."""
    if "NotPrincipal" in statement:
        raise ValueError("NotPrincipal is not modelled by this evaluator")
    principal = statement.get("Principal")
    if principal == "*":
        return "direct"
    if caller.service:
        return "direct" if caller.service in _listify(principal.get("Service", [])) else None
    aws_principals = _listify(principal.get("AWS", []))
    if caller.anonymous:
        return "direct" if "*" in aws_principals else None
    for value in aws_principals:
        if value == "*" or value == caller.arn:
            return "direct"
        if caller.account and value in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return "account"
    return None


def _allows(documents: Sequence[dict], action: str, resource: str, context: Mapping[str, Any], effect: str) -> bool:
    return any(
        statement_applies(s, action, resource, context)
        for document in documents
        for s in _statements(document, effect)
    )


def authorize(caller: Caller, check: Check) -> bool:
    """Would AWS allow ``check`` for ``caller``? See the module docstring for the rules."""
    context = request_context(caller, check.context)
    action, resource = check.action, check.resource
    resource_matches = [
        (s["Effect"], _principal_match(s, caller))
        for s in _listify((check.resource_policy or {"Statement": []})["Statement"])
        if _principal_match(s, caller) and statement_applies(s, action, resource, context)
    ]
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
