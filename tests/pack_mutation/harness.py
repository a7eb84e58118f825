"""Runs the stack with one mutant applied and the pack over the result.

A mutant is a ``pulumi.runtime.register_stack_transformation`` callback registered before
the program runs (``evaluate_stack(transformations=...)``); under the mock monitor
``register_resource_transform`` registers without error but is never applied, so a mutant
written with it would silently change nothing. The harness therefore refuses to count a
mutant whose change does not show in the recorded graph: it must hit exactly one
resource, that resource's recorded inputs must differ from the unmutated run, and the
mutant's own ``shows`` check must hold on them. A broken mutant is an error, not a kill.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi

from securestore.offline.engine import evaluate_stack
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.policy_runner import PolicyReport, check_stack_policies

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    """One realistic change to one resource of one stack.

    ``mutate`` edits the resource's props in place (Python names; nested inputs are
    ``*Args`` objects or dicts; computed values are Outputs). ``shows`` is given the
    mutated resource's recorded inputs (camelCase, policy JSON parsed) and says whether
    the intended change is there.
    """

    id: str
    stack: str
    type: str
    name_suffix: str
    what: str
    mutate: Callable[[dict], None]
    shows: Callable[[dict], bool]


class BrokenMutant(AssertionError):
    """The mutant did not change what it claims to change (so it proves nothing)."""


@dataclass
class Outcome:
    mutant: Mutant
    report: PolicyReport
    target: RecordedResource

    @property
    def killed(self) -> bool:
        return bool(self.report.mandatory)

    @property
    def flagged(self) -> bool:
        return bool(self.report.violations)


# --- editing props of any shape -----------------------------------------------------------

def get(obj: Any, key: Any) -> Any:
    if isinstance(obj, (dict, list, tuple)):
        return obj[key]
    try:
        return pulumi.get(obj, key)
    except (AssertionError, TypeError):
        return getattr(obj, key)


def put(obj: Any, key: Any, value: Any) -> None:
    if isinstance(obj, (dict, list)):
        obj[key] = value
    else:
        pulumi.set(obj, key, value)


def update(props: dict, path: str, fn: Callable[[Any], Any]) -> None:
    """``props[a][b]... = fn(old)`` along a dotted path (digits index lists); an Output
    value is changed inside ``apply``."""
    steps = [int(s) if s.isdigit() else s for s in path.split(".")]
    holder: Any = props
    for step in steps[:-1]:
        holder = get(holder, step)
    old = get(holder, steps[-1]) if not isinstance(holder, dict) or steps[-1] in holder else None
    if isinstance(old, pulumi.Output):
        put(holder, steps[-1], old.apply(fn))
    else:
        put(holder, steps[-1], fn(old))


def edit_policy(props: dict, key: str, fn: Callable[[dict], Any]) -> None:
    """Edit a policy document input in place (``fn``'s return value is ignored), keeping its
    form (JSON text stays text)."""

    def change(value: Any) -> Any:
        document = json.loads(value) if isinstance(value, str) else copy.deepcopy(value)
        fn(document)
        return json.dumps(document) if isinstance(value, str) else document

    value = props[key]
    props[key] = pulumi.Output.from_input(value).apply(change)


def sid(document: dict, name: str) -> dict:
    found = [s for s in document["Statement"] if s.get("Sid") == name]
    if len(found) != 1:
        raise BrokenMutant(f"expected one statement {name!r}, found {len(found)}")
    return found[0]


def recorded_inputs(resource: RecordedResource) -> dict:
    """Inputs with policy JSON parsed, so checks and diffs see the document."""
    inputs = copy.deepcopy(resource.inputs)
    for key in ("policy", "assumeRolePolicy"):
        if isinstance(inputs.get(key), str):
            try:
                inputs[key] = json.loads(inputs[key])
            except ValueError:
                pass
    return inputs


# --- running -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def baseline(stack: str) -> StackGraph:
    return evaluate_stack(stack, project_dir=REPO)


def _target(graph: StackGraph, mutant: Mutant) -> list[RecordedResource]:
    return [r for r in graph.resources if r.type == mutant.type and r.name.endswith(mutant.name_suffix)]


def run(mutant: Mutant) -> Outcome:
    """The pack's report on the stack with ``mutant`` applied; raises ``BrokenMutant`` if
    the change does not show in the recorded graph."""
    hits: list[str] = []

    def transformation(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        if args.type_ != mutant.type or not args.name.endswith(mutant.name_suffix):
            return None
        hits.append(args.name)
        props = dict(args.props)
        mutant.mutate(props)
        return pulumi.ResourceTransformationResult(props, args.opts)

    graph = evaluate_stack(mutant.stack, project_dir=REPO, transformations=[transformation])
    if len(hits) != 1:
        raise BrokenMutant(f"{mutant.id}: transformation hit {hits or 'no resource'}, expected one")
    (target,) = _target(graph, mutant) or [None]
    (before,) = _target(baseline(mutant.stack), mutant)
    if target is None:
        raise BrokenMutant(f"{mutant.id}: target missing from the recorded graph")
    after = recorded_inputs(target)
    if after == recorded_inputs(before):
        raise BrokenMutant(f"{mutant.id}: recorded inputs of {target.name} did not change")
    if not mutant.shows(after):
        raise BrokenMutant(f"{mutant.id}: the change it claims ({mutant.what}) is not in the recorded inputs")
    return Outcome(mutant, check_stack_policies(graph, REPO), target)
