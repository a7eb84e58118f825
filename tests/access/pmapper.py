"""principalmapper as the reference evaluator, and the two gaps we work around explicitly.

principalmapper 1.1.5 imports ``Mapping``/``MutableMapping`` from ``collections``, which
Python 3.10 removed; ``_shim`` puts the ``collections.abc`` classes back before import.

Workarounds (each shown by a test in ``test_access_matrix``):
* policy variables in condition values (``s3:prefix`` like ``${aws:PrincipalTag/..}/*``)
  are not substituted by principalmapper; IAM substitutes them per request, so we do that
  for the caller's tags before handing the documents over (``resolve_variables``);
* an anonymous caller has no IAM node; we ask principalmapper's resource-policy matcher
  which statements apply to a non-IAM caller (only ``Principal: "*"`` ones do);
* its wildcard matcher escapes only ``. $ ^`` before compiling a pattern as a regular
  expression, so the trusts' ``*+*`` (refuse a ``+`` in a tenant id) became ``.*+.*`` and
  matched every value; ``_escape_patterns`` escapes every other character as IAM means it
  literally (same case folding as before, gap 1 stays visible).
Gaps left visible instead (the matrix compares outside them): resources are matched
case-insensitively, and ``StringNotLike`` on a missing key does not match.
"""

from __future__ import annotations

import collections
import collections.abc
import json
import re
from typing import Any

from .evaluator import Caller, Check


def _shim() -> None:
    for name in ("Mapping", "MutableMapping"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


_shim()


def _escape_patterns() -> None:
    import re as _re
    from functools import lru_cache

    from principalmapper.querying import local_policy_simulation as _simulation

    @lru_cache(maxsize=4096)
    def compose(pattern: str):
        body = "".join(".*" if c == "*" else "." if c == "?" else _re.escape(c) for c in pattern)
        return _re.compile(f"^{body}$", _re.IGNORECASE)

    def expand_and_compare(pattern: str, value: str) -> bool:
        body = "".join(".*" if c == "*" else "." if c == "?" else _re.escape(c) for c in pattern)
        return _re.fullmatch(body, value, flags=_re.UNICODE | _re.DOTALL) is not None

    _simulation._compose_pattern = compose  # resources and ARNs (case folded, gap 1)
    _simulation._expand_str_and_compare = expand_and_compare  # String*Like (case-sensitive)


_escape_patterns()

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying import local_policy_simulation as simulation  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

_PRINCIPAL_TAG = re.compile(r"\$\{aws:PrincipalTag/([^}]+)\}", re.IGNORECASE)
EMPTY_TRUST = {"Version": "2012-10-17", "Statement": []}


def resolve_variables(document: dict, tags: dict[str, str]) -> dict:
    """``${aws:PrincipalTag/k}`` replaced by the tag's value inside Condition values only."""
    resolved = json.loads(json.dumps(document))
    for statement in resolved.get("Statement", []):
        for block in statement.get("Condition", {}).values():
            for key, values in block.items():
                def swap(text: Any) -> Any:
                    if not isinstance(text, str):
                        return text
                    return _PRINCIPAL_TAG.sub(lambda m: tags.get(m.group(1), m.group(0)), text)

                block[key] = [swap(v) for v in values] if isinstance(values, list) else swap(values)
    return resolved


_NODES: dict[int, tuple[Caller, Node]] = {}
_RESOLVED: dict[tuple[int, tuple], tuple[dict, dict]] = {}


def _resolved(document: dict, tags: dict[str, str]) -> dict:
    key = (id(document), tuple(sorted(tags.items())))
    if key not in _RESOLVED:
        _RESOLVED[key] = (document, resolve_variables(document, tags))
    return _RESOLVED[key][1]


def _node(caller: Caller) -> Node:
    if id(caller) not in _NODES:
        _NODES[id(caller)] = (caller, _new_node(caller))
    return _NODES[id(caller)][1]


def _new_node(caller: Caller) -> Node:
    policies = [
        Policy(caller.arn, f"policy-{index}", resolve_variables(document, dict(caller.tags)))
        for index, document in enumerate(caller.identity)
    ]
    boundary = (
        Policy(caller.arn, "boundary", resolve_variables(caller.boundary, dict(caller.tags)))
        if caller.boundary
        else None
    )
    return Node(
        caller.arn, "AROA" + caller.name.upper().replace("-", "")[:17].ljust(17, "X"), policies,
        [], EMPTY_TRUST if ":role/" in caller.arn else None, None, 0, False, False, boundary, False,
        dict(caller.tags),
    )


def pm_authorize(caller: Caller, check: Check) -> bool:
    """principalmapper's verdict on ``check`` (resource policy, key policy, session tags)."""
    resource_policy = _resolved(check.resource_policy, dict(caller.tags)) if check.resource_policy else None
    if caller.anonymous or caller.service:
        context = CaseInsensitiveDict(dict(check.context))
        matching = simulation.resource_policy_matching_statements(
            caller.service or "anonymous", resource_policy or EMPTY_TRUST, check.action, check.resource, context
        )
        return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)
    return local_check_authorization_full(
        _node(caller), check.action, check.resource, dict(check.context),
        resource_policy=resource_policy, resource_owner=check.resource_owner,
    )
