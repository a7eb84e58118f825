"""Who can reach the data? Every principal the graph can produce, and every standing
outsider, against an access model.

The model (``model.StackModel``) says what each principal can do to each store, through
identity policies (AWS-managed ones included), resource policies, boundaries and trust
chains. This rule compares it with the access model in the rule's config:

* **outsiders** (anonymous, another account, a principal of this account no policy here
  names, another CloudFront distribution, a service acting for another account) reach
  nothing, except read on the stores in ``publicRead`` and what ``trustedAccounts`` may do;
  reaching a store through a role they can assume counts the same;
* **the graph's principals** may do what ``grants`` declares (principal glob -> store glob ->
  action globs); with ``declaredOnly`` (the project's own stacks) anything else is a
  violation, without it (any other program) their reach is not limited by this rule.

A store is ``<logical name>`` or ``<logical name>/<part>``: ``objects`` (any key),
``objects:<prefix>/`` (a literal prefix the graph names), ``objects:own:<tag>`` (a tagged
session's own prefix).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import model as stack_model
from .common import RuleInfo, config_value, exemptions_schema, stack_policy, subject
from .joins import StackIndex

INFO = RuleInfo(
    name="model-who-can-reach",
    summary="Every principal the program can produce, and every outsider (anonymous, another account, "
    "an unnamed principal of this account, another CloudFront distribution, a service acting for another "
    "account), reaches only what the access model grants, computed with the pack's IAM engine over "
    "identity, resource and AWS-managed policies, boundaries and role trust chains.",
    controls=("S3.2", "S3.3", "S3.6", "KMS.1", "KMS.2", "IAM.1"),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Remove the grant that opens the path (the policy statement, attachment or trust named), or, "
    "after review, declare it in policies/config/<stack>.json under model-who-can-reach (grants, "
    "publicRead, trustedAccounts).",
)

SCHEMA = exemptions_schema({
    "grants": {
        "type": "object",
        "default": {},
        "description": "Access model: principal logical-name glob -> store glob -> action globs it may use.",
    },
    "declaredOnly": {
        "type": "boolean",
        "default": False,
        "description": "The graph's own principals may do only what grants declares (the project's stacks).",
    },
    "publicRead": {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": "Store globs anyone may read (Read/List actions), e.g. a website bucket's objects.",
    },
    "trustedAccounts": {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": "Other account ids whose principals may reach this program's stores.",
    },
    "accountId": {
        "type": "string", "default": "",
        "description": "This program's account id (default: the account its own ARNs carry).",
    },
})

READ_LEVELS = frozenset({"Read", "List"})


def _allowed(grants: Mapping[str, Any], principal: str, store: str, action: str) -> bool:
    for principal_glob, stores in grants.items():
        if not fnmatchcase(principal, principal_glob) or not isinstance(stores, Mapping):
            continue
        for store_glob, actions in stores.items():
            if fnmatchcase(store, store_glob) and any(fnmatchcase(action.lower(), str(a).lower())
                                                      for a in actions):
                return True
    return False


def _short(actions: Iterable[str]) -> str:
    names = sorted(actions)
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _outsider_allowed(access: stack_model.Access, public: list[str], trusted: set[str]) -> frozenset[str]:
    """The part of an outsider's reach the config allows."""
    principal = access.principal
    if principal.kind == "other-account" and principal.caller.account in trusted:
        return access.actions
    if any(fnmatchcase(access.store.name, glob) for glob in public):
        return frozenset(a for a in access.actions
                         if (stack_model.engine.access_level(a) or "") in READ_LEVELS)
    return frozenset()


def violations(model: stack_model.StackModel, grants: Mapping[str, Any], declared_only: bool,
               public: list[str], trusted: set[str], exempt: set[str]) -> list[tuple[str, str, str]]:
    """``(urn, subject, problem)`` for every path the access model does not allow."""
    found: list[tuple[str, str, str]] = []
    grouped: dict[tuple[str, frozenset[str]], list[stack_model.Access]] = {}
    for outsider in model.outsiders:
        for access in model.reach(outsider):
            if access.store.node.name in exempt:
                continue
            extra = frozenset(access.actions - _outsider_allowed(access, public, trusted))
            if extra:
                grouped.setdefault((access.store.name, extra), []).append(access)
    for (store_name, extra), paths in grouped.items():
        node = paths[0].store.node
        who = "; ".join(a.how() for a in paths[:3]) + (f"; and {len(paths) - 3} more outsider(s)"
                                                         if len(paths) > 3 else "")
        found.append((node.urn, subject(node.type, node.name), f"{who} can {_short(extra)} on store '{store_name}'."))
    for principal in model.principals + (model.services if declared_only else []):
        if principal.name in exempt:
            continue
        if declared_only and principal.unreadable and principal.node is not None:
            found.append((principal.node.urn, subject(principal.node.type, principal.name),
                          f"attaches {', '.join(principal.unreadable)}, which the pack cannot read, so what "
                          "it grants is unknown."))
        if not declared_only:
            continue
        seen: set[tuple] = set()
        for access in model.reach(principal):
            acting = access.path[-1] if access.path else principal.name
            key = (acting, access.tags, access.store.name)
            if key in seen or access.store.node.name in exempt:
                continue
            seen.add(key)
            extra = {a for a in access.actions if not _allowed(grants, acting, access.store.name, a)}
            if extra:
                found.append((access.store.node.urn, subject(access.store.node.type, access.store.node.name),
                              f"{access.how()} can {_short(extra)} on store '{access.store.name}', which the "
                              f"access model does not grant to '{acting}'."))
    return found


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    configured = config_value(args, "accountId", "")
    model = stack_model.stack_model(index, configured if isinstance(configured, str) and configured else None)
    if model is None:
        return
    grants = config_value(args, "grants", {})
    for urn, where, problem in violations(
            model, grants if isinstance(grants, Mapping) else {}, bool(config_value(args, "declaredOnly", False)),
            list(config_value(args, "publicRead", []) or []), set(config_value(args, "trustedAccounts", []) or []),
            set(config_value(args, "exemptResources", []) or [])):
        report(INFO.message(where, problem), urn)


POLICIES = [stack_policy(INFO, _validate, SCHEMA)]
