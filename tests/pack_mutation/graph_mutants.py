"""Mutants applied to the recorded graph, generated from the model of the project's stacks.

The hand-written mutants (``mutants.py``) re-run the program with a stack transformation,
which proves the change is one the SDK can make; a generated class has hundreds of
members, so these edit a copy of the recorded graph instead (the pack sees only the graph,
so the verdict is the same), which makes each run the pack's time, not the program's.

Generation walks what the graph contains, not a list of examples:

* every statement of every policy document (bucket, key, topic, queue, trust, identity
  and inline policies): dropped, Resource widened to ``*``, Action widened to the
  service's ``*``, Principal widened to ``*`` or another account, each condition clause
  dropped;
* every role: each AWS-managed policy with write access to data attached;
* every store: each resource type that can expose or export it added (an access point, a
  replication rule, an inventory export, a topic subscription, a function URL...);

and every equivalence transform of every document (statements split or merged, principals
as account id / root ARN / list, single-valued keys under set operators, a stricter
condition added) must pass.

Which weakenings must be killed is decided by the IAM engine, not by the pack: a mutant
counts when some concrete request (a principal or outsider, an action, a resource, a
request context) is allowed after it and refused before (``changes_access``), or when it
changes a flow, evidence or integrity property by construction (its class says so). A
generated mutant that changes nothing is "inert" and is reported, not counted.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from securestore.offline.engine import evaluate_stack
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.policy_runner import PolicyReport, check_stack_policies

REPO = Path(__file__).resolve().parents[2]
OTHER = "999999999999"


@dataclass(frozen=True)
class GraphMutant:
    """One change to one stack's recorded graph."""

    id: str
    stack: str
    what: str
    edit: Callable[[StackGraph], None]
    """Edits the (copied) graph in place."""
    kind: str = "access"
    """``access`` (judged by ``changes_access``), ``refusal`` (a Deny weakened: judged by
    ``changes_refusals``), ``flow``/``evidence``/``integrity`` (a change by construction) or
    ``equivalent`` (must pass)."""
    statement: Optional[dict] = None
    """For ``refusal``: the Deny statement as it was, to build the requests it refused."""


@lru_cache(maxsize=None)
def baseline(stack: str) -> StackGraph:
    return evaluate_stack(stack, project_dir=REPO)


def copy_graph(graph: StackGraph) -> StackGraph:
    return StackGraph(graph.project, graph.stack, [copy.deepcopy(r) for r in graph.resources],
                      dict(graph.exports), dict(graph.config))


def mutated(mutant: GraphMutant) -> StackGraph:
    graph = copy_graph(baseline(mutant.stack))
    mutant.edit(graph)
    return graph


def report(mutant: GraphMutant) -> PolicyReport:
    return check_stack_policies(mutated(mutant), REPO)


# --- editing recorded resources ----------------------------------------------------------

def replace_props(graph: StackGraph, name: str, change: Callable[[dict], None]) -> None:
    """Apply ``change`` to a resource's inputs and outputs (stack policies read outputs)."""
    for position, resource in enumerate(graph.resources):
        if resource.name == name:
            inputs, outputs = copy.deepcopy(resource.inputs), copy.deepcopy(resource.outputs)
            change(inputs)
            if outputs:
                change(outputs)
            graph.resources[position] = dataclasses.replace(resource, inputs=inputs, outputs=outputs)
            return
    raise LookupError(f"no resource named {name!r}")


def add_resource(graph: StackGraph, type_: str, name: str, inputs: dict,
                 depends_on: Optional[dict[str, tuple[str, ...]]] = None, outputs: Optional[dict] = None) -> None:
    urn = f"urn:pulumi:{graph.stack}::{graph.project}::{type_}::{name}"
    graph.resources.append(RecordedResource(
        type=type_, name=name, urn=urn, custom=True, parent=None,
        dependencies=tuple(u for urns in (depends_on or {}).values() for u in urns),
        property_dependencies=dict(depends_on or {}), inputs=inputs,
        outputs={**inputs, **(outputs or {})}, id=f"{name}-id"))


def resource(graph: StackGraph, name: str) -> RecordedResource:
    return next(r for r in graph.resources if r.name == name)


def edit_document(graph: StackGraph, name: str, path: tuple, change: Callable[[dict], None]) -> None:
    """Edit the policy document at ``path`` (``("policy",)``, ``("inlinePolicies", 0,
    "policy")``) of a resource, keeping JSON text as text."""

    def apply(props: dict) -> None:
        holder: Any = props
        for step in path[:-1]:
            holder = holder[step]
        value = holder[path[-1]]
        document = json.loads(value) if isinstance(value, str) else copy.deepcopy(value)
        change(document)
        holder[path[-1]] = json.dumps(document) if isinstance(value, str) else document

    replace_props(graph, name, apply)


def documents(graph: StackGraph) -> Iterator[tuple[RecordedResource, tuple, dict]]:
    """``(resource, path, parsed document)`` of every policy document in the graph."""
    for res in graph.resources:
        for key in ("policy", "assumeRolePolicy", "policyDocument"):
            value = res.inputs.get(key)
            parsed = _parse(value)
            if parsed is not None:
                yield res, (key,), parsed
        for position, inline in enumerate(res.inputs.get("inlinePolicies") or []):
            if isinstance(inline, dict):
                parsed = _parse(inline.get("policy"))
                if parsed is not None:
                    yield res, ("inlinePolicies", position, "policy"), parsed


def _parse(value: Any) -> Optional[dict]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) and "Statement" in value else None
