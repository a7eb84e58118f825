"""Golden files: checked-in copies of a public interface, so that changing it is deliberate.

A test renders the current value (the stack's resource graph, the component package's
schema), compares it with the copy under ``tests/golden/`` and fails with the first lines
that differ. After a deliberate change, regenerate the copies and review their diff:

    SECURESTORE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/stack/test_component_package.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from securestore.offline.graph import StackGraph

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
UPDATE_VARIABLE = "SECURESTORE_UPDATE_GOLDEN"
UPDATE_COMMAND = (
    f"{UPDATE_VARIABLE}=1 .venv/bin/python -m pytest -q tests/stack/test_component_package.py"
)


def render(value: Any) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline (diffs read well)."""
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def check_golden(name: str, value: Any) -> None:
    """Fail unless ``value`` renders exactly as ``tests/golden/<name>``; update on request."""
    path = GOLDEN_DIR / name
    actual = render(value)
    if os.environ.get(UPDATE_VARIABLE) == "1":
        path.write_text(actual)
        return
    expected = path.read_text() if path.is_file() else ""
    if actual == expected:
        return
    diff = "".join(
        list(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="now",
                n=2,
            )
        )[:60]
    )
    raise AssertionError(
        f"{name} drifted from its golden copy. If the change is deliberate, run\n"
        f"    {UPDATE_COMMAND}\nand review the diff of tests/golden/.\n{diff}"
    )


def stack_graph_record(graph: StackGraph) -> dict[str, Any]:
    """What an existing stack would compare on `pulumi up`: each resource's URN (type and
    name), parent, provider, protect/retain flags and inputs, keyed by URN."""
    return {
        resource.urn: {
            "parent": resource.parent,
            "provider": resource.provider,
            "protect": resource.protect,
            "retainOnDelete": resource.retain_on_delete,
            "inputs": resource.inputs,
        }
        for resource in graph.resources
    }
