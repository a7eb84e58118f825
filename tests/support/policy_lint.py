"""parliament, with exactly the false positives it raises on our documents filtered out.

Each filter names the finding, the place it applies and why it is wrong there. Anything
else parliament reports is returned and fails the caller's test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from parliament import analyze_policy_string

_DECIMAL_VALUE = re.compile(r"given \['\d+\.\d+'\]$")

Kind = Literal["identity", "trust", "bucket", "key", "topic"]


@dataclass(frozen=True)
class Finding:
    issue: str
    detail: Any
    sid: str | None


def _statement_at(document: dict[str, Any], text: str, column: int) -> dict[str, Any] | None:
    """The statement whose JSON text spans ``column`` (parliament reports text positions)."""
    position = text.find('"Statement"')
    for statement in document.get("Statement", []):
        encoded = json.dumps(statement)
        start = text.find(encoded, position)
        if start <= column <= start + len(encoded):
            return statement
        position = start + len(encoded)
    return None


def _is_known_false_positive(kind: Kind, issue: str, detail: Any, statement: dict | None) -> bool:
    detail_text = str(detail)
    effect = (statement or {}).get("Effect")
    # parliament's Numeric pattern is ``^\d+$``; AWS documents s3:TlsVersion as "1.2".
    if (
        issue == "MISMATCHED_TYPE"
        and "s3:TlsVersion" in detail_text
        and _DECIMAL_VALUE.search(detail_text)
    ):
        return True
    # A Deny on ``s3:*`` with a condition key some s3 actions lack only narrows the Deny;
    # it can never grant anything (and FSBP S3.5 asks for exactly this statement).
    if issue == "UNKNOWN_CONDITION_FOR_ACTION" and effect == "Deny":
        return True
    # AWS's table lists GetObjectAttributes with two resource types, ``accesspoint*`` and
    # ``object*``; parliament reads both as required and asks an object statement for an
    # access-point ARN. The action is authorised on the object ARN (AWS's GetObjectAttributes
    # page), as GetObjectVersionAttributes, listed with ``object*`` alone, is.
    if issue == "RESOURCE_MISMATCH" and isinstance(detail, list) and detail and all(
            entry.get("action") == "s3:GetObjectAttributes"
            and entry.get("required_format") == "arn:*:s3:*:*:accesspoint/*" for entry in detail):
        return True
    # A key policy is attached to one key; AWS requires ``Resource: "*"`` there.
    if issue == "RESOURCE_STAR" and kind == "key":
        return True
    return False


def lint(document: dict[str, Any], kind: Kind) -> list[Finding]:
    """parliament findings on ``document`` that are not a documented false positive."""
    text = json.dumps(document)
    policy = analyze_policy_string(text)
    findings = []
    for finding in policy.findings:
        column = (finding.location or {}).get("column") or 0
        statement = _statement_at(document, text, column)
        if _is_known_false_positive(kind, finding.issue, finding.detail, statement):
            continue
        findings.append(Finding(finding.issue, finding.detail, (statement or {}).get("Sid")))
    return findings
