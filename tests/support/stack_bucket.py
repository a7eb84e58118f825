"""S3's reading of CORS rules, for tests that check requests against the stack's own rules.

:func:`matching_rule` is S3's documented preflight logic (Amazon S3 User Guide, "How does
Amazon S3 evaluate the CORS configuration on a bucket?"): the first rule whose origins match
the ``Origin`` header, whose methods contain the request method and whose allowed headers
cover every header of ``Access-Control-Request-Headers`` (one ``*`` per entry allowed, header
names compared case-insensitively) answers the request; no such rule, no CORS headers (403).
The rules themselves come from the stack: :mod:`securestore.offline.bucket_settings`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from securestore.offline.bucket_settings import recorded_cors_rules, recorded_default_encryption  # noqa: F401


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    if pattern.count("*") > 1:
        raise ValueError(f"S3 allows one '*' per CORS entry, got {pattern!r}")
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def header_allowed(rule: dict[str, Any], header: str) -> bool:
    return any(_wildcard(allowed, header, ignore_case=True) for allowed in rule.get("AllowedHeaders", ()))


def matching_rule(rules: Iterable[dict[str, Any]], origin: str, method: str,
                  request_headers: Iterable[str] = ()) -> Optional[dict[str, Any]]:
    """The rule that answers a preflight (or a simple request) from ``origin``; None: refused."""
    wanted = [h.strip() for h in request_headers if h.strip()]
    for rule in rules:
        if not any(_wildcard(allowed, origin, ignore_case=False) for allowed in rule.get("AllowedOrigins", ())):
            continue
        if method.upper() not in rule.get("AllowedMethods", ()):
            continue
        if all(header_allowed(rule, header) for header in wanted):
            return rule
    return None


def exposed(rule: dict[str, Any], header: str) -> bool:
    """May the page read response ``header``? (ExposeHeaders takes no wildcards.)"""
    return header.lower() in {h.lower() for h in rule.get("ExposeHeaders", ())}
