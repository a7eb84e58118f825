"""S3 actions by resource type, from AWS's IAM definition as parliament ships it.

The attacker rows of the access matrix try *every* bucket-level ``Put*``/``Delete*``
action and every object-level action, not a hand-picked few: a new action AWS adds to S3
lands in the matrix with the next parliament release, without anyone remembering it.
"""

from __future__ import annotations

from parliament import iam_definition


def _s3_privileges() -> list[dict]:
    return next(service for service in iam_definition if service["prefix"] == "s3")["privileges"]


def _on(resource_type: str) -> list[str]:
    return sorted(
        p["privilege"]
        for p in _s3_privileges()
        if any(r["resource_type"].rstrip("*") == resource_type for r in p["resource_types"])
    )


BUCKET_WRITE_ACTIONS = tuple(a for a in _on("bucket") if a.startswith(("Put", "Delete")))
"""Every action that changes or deletes the bucket or its configuration (resource: bucket)."""
OBJECT_ACTIONS = tuple(_on("object"))
"""Every action whose resource is an object ARN."""
