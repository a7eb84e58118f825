"""Render a recorded graph the way ``pulumi preview`` shows it: a tree and counts per type."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .graph import RecordedResource, StackGraph

STACK_TYPE = "pulumi:pulumi:Stack"


def _label(resource: RecordedResource) -> str:
    flags = []
    if resource.protect:
        flags.append("protected")
    if resource.retain_on_delete:
        flags.append("retained")
    suffix = f"  [{', '.join(flags)}]" if flags else ""
    return f"{resource.type}  {resource.name}{suffix}"


def render_tree(graph: StackGraph) -> str:
    """Components with their children, indented, in registration order."""
    children: dict[str | None, list[RecordedResource]] = {}
    known = {r.urn for r in graph.resources}
    for resource in graph.resources:
        parent = resource.parent if resource.parent in known else None
        children.setdefault(parent, []).append(resource)

    lines = [f"{STACK_TYPE}  {graph.project}-{graph.stack}"]

    def walk(parent: str | None, indent: str) -> None:
        items = sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name))
        for index, resource in enumerate(items):
            last = index == len(items) - 1
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{_label(resource)}")
            walk(resource.urn, indent + ("   " if last else "│  "))

    walk(None, "")
    return "\n".join(lines)


def type_counts(graph: StackGraph) -> dict[str, int]:
    return dict(sorted(Counter(r.type for r in graph.resources).items()))


def render_summary(graph: StackGraph) -> str:
    counts = type_counts(graph)
    custom = sum(1 for r in graph.resources if r.custom)
    components = len(graph.resources) - custom
    lines = [
        f"Resources: {len(graph.resources)} to create "
        f"({custom} AWS resources, {components} components)"
    ]
    lines.extend(f"  {count:>3} {type_}" for type_, count in counts.items())
    return "\n".join(lines)


def render_exports(graph: StackGraph) -> str:
    if not graph.exports:
        return "Outputs: none"
    width = max(len(k) for k in graph.exports)
    lines = ["Outputs:"]
    lines.extend(f"  {k:<{width}} : {v}" for k, v in sorted(graph.exports.items()))
    return "\n".join(lines)


def to_json(graph: StackGraph) -> dict[str, Any]:
    """A machine-readable view: every resource with its links and inputs, plus the counts."""
    return {
        "project": graph.project,
        "stack": graph.stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "custom": r.custom,
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "dependencies": list(r.dependencies),
                "propertyDependencies": {
                    k: list(v) for k, v in r.property_dependencies.items() if v
                },
                "inputs": r.inputs,
            }
            for r in graph.resources
        ],
        "counts": type_counts(graph),
        "outputs": graph.exports,
    }
