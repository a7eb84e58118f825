"""Shared pieces of the policy documents: the version string and TLS deny statements.

Every resource policy here (bucket, topic) starts with the same two denies, so they are
built in one place and named for what they stop.
"""

from __future__ import annotations

from typing import Any, Sequence

POLICY_VERSION = "2012-10-17"
MIN_TLS_VERSION = "1.2"
"""Compared numerically by ``NumericLessThan``; AWS documents it as the string "1.2"."""

Statement = dict[str, Any]


def document(statements: Sequence[Statement]) -> dict[str, Any]:
    """A policy document; refuses two statements with the same Sid (AWS rejects it too)."""
    sids = [s["Sid"] for s in statements if "Sid" in s]
    duplicates = sorted({sid for sid in sids if sids.count(sid) > 1})
    if duplicates:
        raise ValueError(f"policy statements share Sid(s) {duplicates}; each Sid must be unique")
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def deny_insecure_transport(resources: Sequence[str], action: str = "s3:*") -> Statement:
    """Deny every request that did not arrive over TLS (FSBP S3.5)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


TENANT_TAG_KEY = "tenant_id"


def tagged_sessions() -> dict[str, Any]:
    """Condition: the caller carries a ``tenant_id`` principal tag (a tenant session)."""
    return {"Null": {f"aws:PrincipalTag/{TENANT_TAG_KEY}": "false"}}


def deny_tenant_sessions(resources: Sequence[str] | str, action: str, what: str) -> Statement:
    """Deny every ``action`` on ``resources`` to tenant sessions, whatever their identity
    policy says: ``what`` names the store in the Sid (``DenyTenantSessionsTheLogBucket``)."""
    return {
        "Sid": f"DenyTenantSessions{what}",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resources if isinstance(resources, str) else list(resources),
        "Condition": tagged_sessions(),
    }


def deny_outdated_tls(resources: Sequence[str]) -> Statement:
    """Deny S3 requests negotiated with TLS older than 1.2."""
    return {
        "Sid": "DenyTlsOlderThan12",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": list(resources),
        "Condition": {"NumericLessThan": {"s3:TlsVersion": MIN_TLS_VERSION}},
    }
