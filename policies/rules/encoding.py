"""Is the verdict encoding-independent? Equivalent documents must get equal verdicts.

IAM accepts many spellings of one meaning: an account as ``123456789012`` or its root ARN,
one value or a one-element list, ``"*"`` or ``{"AWS": "*"}``, one statement with two
actions or two statements with one each, a positive operator on a single-valued key with or
without ``ForAnyValue:``. ``canonical`` rewrites a document into one spelling before any
rule reads it (``common.load_document`` calls it), so a rule that compares shapes still
judges meaning; ``equivalent_forms`` produces the other spellings (and stricter variants)
that the mutation suite checks against every document of the project's stacks.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterator, Mapping

from . import iam_engine as engine

SINGLE_VALUED_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalArn", "aws:PrincipalAccount",
    "aws:PrincipalOrgID", "aws:SecureTransport", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp",
    "kms:ViaService", "kms:CallerAccount", "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:TlsVersion", "s3:prefix", "sts:ExternalId",
))
"""Keys with one value per request (IAM User Guide, "single-valued vs. multivalued context
keys"): on them ``ForAnyValue:`` with a positive operator means the plain operator."""
SINGLE_VALUED_PREFIXES = ("kms:encryptioncontext:", "aws:principaltag/", "aws:resourcetag/", "aws:requesttag/",
                          "s3:existingobjecttag/")
"""Key families with one value per request (one tag, one encryption-context entry)."""


def single_valued(key: str) -> bool:
    key = key.lower()
    return key in SINGLE_VALUED_KEYS or key.startswith(SINGLE_VALUED_PREFIXES)


_POSITIVE = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "NumericEquals",
             "Bool", "IpAddress")


def _account_root(value: str) -> str:
    return f"arn:aws:iam::{value}:root" if re.fullmatch(r"\d{12}", value) else value


def _principal(value: Any) -> Any:
    if value == "*" or value == {"AWS": "*"}:
        return "*"
    if isinstance(value, Mapping):
        out = {}
        for kind, values in value.items():
            items = values if isinstance(values, list) else [values]
            items = [_account_root(v) if kind == "AWS" and isinstance(v, str) else v for v in items]
            out[kind] = sorted(set(items), key=str)
        return out
    return value


def _condition(condition: Any) -> Any:
    if not isinstance(condition, Mapping):
        return condition
    out: dict[str, dict] = {}
    for operator, clauses in condition.items():
        if not isinstance(clauses, Mapping):
            out[operator] = clauses
            continue
        for key, values in clauses.items():
            target = operator
            qualifier, _, plain = str(operator).rpartition(":")
            if qualifier == "ForAnyValue" and plain in _POSITIVE and single_valued(str(key)):
                target = plain
            items = values if isinstance(values, list) else [values]
            merged = out.setdefault(target, {})
            if key in merged:
                # Two clauses on one key under one operator: both must hold; keep them apart
                # by leaving the original operator (rare; no rewrite).
                out.setdefault(operator, {})[key] = values
                continue
            merged[key] = [str(v).lower() if isinstance(v, bool) else v for v in items]
    return out


def canonical(document: Any) -> Any:
    """``document`` in one spelling: lists everywhere, accounts as root ARNs, ``"*"``
    principals plain, ``ForAnyValue:`` dropped on single-valued keys. Statements keep their
    order, Sids and count, so findings still name them."""
    if not isinstance(document, Mapping):
        return document
    out = dict(document)
    raw = document.get("Statement")
    statements = raw if isinstance(raw, list) else [raw] if raw is not None else []
    new = []
    for statement in statements:
        if not isinstance(statement, Mapping):
            new.append(statement)
            continue
        item = dict(statement)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in item and not isinstance(item[key], list):
                item[key] = [item[key]]
        for key in ("Principal", "NotPrincipal"):
            if key in item:
                item[key] = _principal(item[key])
        if "Condition" in item:
            item["Condition"] = _condition(item["Condition"])
        new.append(item)
    out["Statement"] = new
    return out


def equivalent_forms(document: Mapping[str, Any], own_account: str) -> Iterator[tuple[str, dict]]:
    """``(name, document)``: spellings of the same meaning, and stricter variants."""
    statements = list(document.get("Statement") or [])
    yield "statements-reversed", {**document, "Statement": list(reversed(statements))}
    for index, statement in enumerate(statements):
        label = statement.get("Sid") or f"#{index}"
        actions = statement.get("Action")
        if isinstance(actions, list) and len(actions) > 1:
            split = [dict(statement, Action=a, Sid=f"{statement.get('Sid', 'S')}{n}") for n, a in enumerate(actions)]
            yield f"{label}-split-per-action", {**document, "Statement": statements[:index] + split +
                                                statements[index + 1:]}
        for key in ("Action", "Resource"):
            value = statement.get(key)
            if isinstance(value, str):
                yield f"{label}-{key.lower()}-as-list", _replace(document, index, {key: [value]})
            elif isinstance(value, list) and len(value) == 1:
                yield f"{label}-{key.lower()}-as-string", _replace(document, index, {key: value[0]})
        principal = statement.get("Principal")
        if isinstance(principal, Mapping) and isinstance(principal.get("AWS"), (str, list)):
            values = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
            root = f"arn:aws:iam::{own_account}:root"
            if root in values:
                swapped = [own_account if v == root else v for v in values]
                yield f"{label}-account-as-id", _replace(document, index, {"Principal": {**principal, "AWS": swapped}})
            if not isinstance(principal["AWS"], list):
                yield f"{label}-principal-as-list", _replace(document, index,
                                                             {"Principal": {**principal, "AWS": values}})
        if principal == "*":
            yield f"{label}-principal-aws-star", _replace(document, index, {"Principal": {"AWS": "*"}})
        condition = statement.get("Condition")
        if isinstance(condition, Mapping):
            for operator, clauses in condition.items():
                if operator in _POSITIVE and isinstance(clauses, Mapping) and \
                        all(single_valued(str(k)) for k in clauses) and \
                        f"ForAnyValue:{operator}" not in condition:
                    new = dict(condition)
                    new[f"ForAnyValue:{operator}"] = new.pop(operator)
                    yield f"{label}-foranyvalue-{operator}", _replace(document, index, {"Condition": new})
        if statement.get("Effect") == "Allow" and "Principal" in statement and \
                not (isinstance(condition, Mapping) and "Bool" in condition):
            stricter = dict(condition or {})
            stricter["Bool"] = {"aws:SecureTransport": "true"}
            yield f"{label}-stricter-secure-transport", _replace(document, index, {"Condition": stricter})


def _replace(document: Mapping[str, Any], index: int, fields: Mapping[str, Any]) -> dict:
    out = copy.deepcopy(dict(document))
    out["Statement"][index] = {**out["Statement"][index], **fields}
    return out


def same_meaning(left: Any, right: Any) -> bool:
    """Do two documents read the same once canonical (order of statements aside)?"""
    def key(document: Any) -> list[str]:
        return sorted(repr(sorted(s.items(), key=lambda kv: kv[0])) for s in canonical(document)["Statement"]
                      if isinstance(s, Mapping))
    return key(left) == key(right)


__all__ = ["canonical", "equivalent_forms", "same_meaning", "SINGLE_VALUED_KEYS", "engine"]
