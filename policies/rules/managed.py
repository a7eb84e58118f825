"""AWS-managed IAM policies, shipped as data, so a role that attaches one by ARN is judged
by what the document grants, not by its name.

``data/aws_managed_policies.json.gz`` holds every AWS-managed policy document with its
path, default version id and update date, derived from the snapshot that ``moto`` ships
(``moto/iam/aws_managed_policies.py``, itself scraped from IAM's ``ListPolicies`` /
``GetPolicyVersion``); ``derive_managed_table`` makes it and a test proves the file equals
moto's data. One JSON text per policy inside a JSON object, so a run parses only the
policies a program attaches. An ARN that is not in the file (a policy AWS published after
the snapshot) is ``None``: the caller decides how to treat what it cannot read.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

MANAGED_POLICIES_PATH = Path(__file__).resolve().parent / "data" / "aws_managed_policies.json.gz"
ARN_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class ManagedPolicy:
    """One AWS-managed policy as of the snapshot."""

    name: str
    arn: str
    version: str
    updated: str
    """The version's date (ISO 8601), so a reader knows how old the shipped text is."""
    document: dict


def derive_managed_table(data: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{name: {path, version, updated, document}}`` from moto's ``aws_managed_policies_data``."""
    return {
        name: {
            "path": entry.get("Path", "/"),
            "version": entry.get("DefaultVersionId", ""),
            "updated": entry.get("UpdateDate") or entry.get("CreateDate") or "",
            "document": entry["Document"],
        }
        for name, entry in data.items()
    }


def encode_managed_table(table: Mapping[str, Any]) -> bytes:
    """The bytes of the data file: gzip without a timestamp, so the file is reproducible."""
    outer = {name: json.dumps(table[name], sort_keys=True, separators=(",", ":")) for name in sorted(table)}
    return gzip.compress(json.dumps(outer, sort_keys=True, separators=(",", ":")).encode(), mtime=0)


@lru_cache(maxsize=1)
def _raw() -> dict[str, str]:
    return json.loads(gzip.decompress(MANAGED_POLICIES_PATH.read_bytes()))


def is_managed_arn(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith(ARN_PREFIX + "/")


@lru_cache(maxsize=None)
def managed_policy(arn: str) -> Optional[ManagedPolicy]:
    """The shipped policy an ARN names (``arn:aws:iam::aws:policy[/path]/Name``), else None."""
    if not is_managed_arn(arn):
        return None
    name = arn.rsplit("/", 1)[-1]
    raw = _raw().get(name)
    if raw is None:
        return None
    entry = json.loads(raw)
    expected = f"{ARN_PREFIX}{entry['path']}{name}"
    if arn != expected:
        return None
    return ManagedPolicy(name, arn, entry["version"], entry["updated"], entry["document"])


def managed_names() -> list[str]:
    return sorted(_raw())


def managed_arn(name: str) -> str:
    entry = json.loads(_raw()[name])
    return f"{ARN_PREFIX}{entry['path']}{name}"
