"""Readers for recorded resources that several test modules share (import as ``stack_helpers``)."""

from __future__ import annotations

import json
from typing import Any

from securestore.offline.graph import RecordedResource, StackGraph


def policy_of(resource: RecordedResource, key: str = "policy") -> dict[str, Any]:
    """A policy input as a dict, whether the program passed JSON text or a mapping."""
    value = resource.inputs[key]
    return json.loads(value) if isinstance(value, str) else value


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"expected one statement {sid!r}, found {len(found)}"
    return found[0]


def named(graph: StackGraph, type_: str, suffix: str) -> RecordedResource:
    """The one resource of ``type_`` whose logical name ends with ``suffix``."""
    found = [r for r in graph.of_type(type_) if r.name.endswith(suffix)]
    assert len(found) == 1, f"expected one {type_} named *{suffix}, found {[r.name for r in found]}"
    return found[0]
