"""Runs the CrossGuard pack over an offline ``StackGraph`` the way the Pulumi engine would.

The rules are the real ``pulumi_policy`` policies from ``policies/``; this module only
plays the engine's part (``Analyze``, ``AnalyzeStack`` and ``Remediate`` in
``pulumi_policy.policy._PolicyAnalyzerServicer``): each resource's inputs are wrapped in
the same unknown-checking proxy, resource policies get ``ResourceValidationArgs``, stack
policies get ``StackValidationArgs`` whose ``PolicyResource`` objects carry outputs,
parent, dependencies and property dependencies, and enforcement levels and per-policy
config follow ``--policy-pack-config`` semantics (a level, or an object with
``enforcementLevel`` and properties; schema defaults filled in).
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from .graph import RecordedResource, StackGraph

REMEDIATION_MARKER = " Remediation: "
LEVELS = ("advisory", "mandatory", "remediate", "disabled")


@dataclass(frozen=True)
class Violation:
    """One reported violation, with everything a reader needs to fix it."""

    policy: str
    enforcement: str
    severity: str
    controls: str
    urn: str
    resource_type: str
    resource_name: str
    problem: str
    remediation: str

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass(frozen=True)
class Remediation:
    policy: str
    urn: str
    changed: tuple[str, ...]
    """Top-level properties the remediation rewrote."""


@dataclass
class PolicyReport:
    stack: str
    pack: str
    policies_run: int
    violations: list[Violation] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Policies that could not run on a resource (unknown value) or said not applicable."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.mandatory]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if not v.mandatory]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "pack": self.pack,
            "policiesRun": self.policies_run,
            "mandatoryViolations": len(self.mandatory),
            "advisoryViolations": len(self.advisory),
            "violations": [asdict(v) for v in self.violations],
            "remediations": [asdict(r) for r in self.remediations],
            "skipped": list(self.skipped),
        }

    def format_text(self) -> str:
        lines = [
            f"Policy pack {self.pack} ({self.policies_run} policies) on stack {self.stack}: "
            f"{len(self.mandatory)} mandatory, {len(self.advisory)} advisory violation(s)"
        ]
        for v in sorted(self.violations, key=lambda v: (not v.mandatory, v.policy, v.urn)):
            lines += [
                f"  [{v.enforcement}] {v.policy}  ({v.controls or 'no FSBP control'}; {v.severity})",
                f"      resource:    {v.resource_type} '{v.resource_name}'",
                f"      problem:     {v.problem}",
                f"      remediation: {v.remediation}",
            ]
        for r in self.remediations:
            lines.append(f"  [remediated] {r.policy} rewrote {', '.join(r.changed)} of {r.urn}")
        for note in self.skipped:
            lines.append(f"  [skipped] {note}")
        lines.append("Policy check " + ("passed." if self.passed else "FAILED: fix the mandatory violations above."))
        return "\n".join(lines)


def load_policies(project_dir: Optional[Path] = None, *, pack_dir: Optional[Path] = None) -> tuple[str, list[Any]]:
    """``(pack name, policies)`` from ``pack_dir/rules`` (any directory name, as ``pulumi preview
    --policy-pack DIR`` takes it), default ``<project_dir>/policies/rules``.

    This project's own pack is imported as ``policies.rules``, the module the tests import, so
    both see the same policy objects; a pack anywhere else is loaded the way the Pulumi CLI
    loads it (its ``rules`` package beside its ``__main__.py``), under a name of its own.
    """
    if pack_dir is None and project_dir is None:
        rules = importlib.import_module("policies.rules")
        return rules.PACK_NAME, list(rules.ALL_POLICIES)
    pack = Path(pack_dir).resolve() if pack_dir is not None else Path(project_dir).resolve() / "policies"
    init = pack / "rules" / "__init__.py"
    if not init.is_file():
        raise ValueError(f"no policy pack in {pack} (expected {pack.name}/rules/__init__.py)")
    rules = _as_policies_package(pack, init) or _load_rules_package(pack, init)
    return rules.PACK_NAME, list(rules.ALL_POLICIES)


def _as_policies_package(pack: Path, init: Path) -> Optional[Any]:
    """``policies.rules`` when that name is (or can be) this very pack, else None."""
    if pack.name != "policies":
        return None
    loaded = sys.modules.get("policies.rules")
    if loaded is None:
        if str(pack.parent) not in sys.path:
            sys.path.insert(0, str(pack.parent))
        loaded = importlib.import_module("policies.rules")
    return loaded if Path(loaded.__file__).resolve() == init.resolve() else None


def _load_rules_package(pack: Path, init: Path) -> Any:
    import hashlib
    import importlib.util

    name = "securestore_policy_pack_" + hashlib.sha256(str(pack).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


POLICY_CONFIG_DIR = Path("policies") / "config"


def default_config_path(project_dir: Path, stack: str) -> Optional[Path]:
    """``policies/config/<stack>.json`` when it exists: the file the README passes to
    ``pulumi preview --policy-pack-config`` for that stack."""
    path = Path(project_dir) / POLICY_CONFIG_DIR / f"{stack}.json"
    return path if path.is_file() else None


def load_policy_config(path: Path) -> dict[str, Any]:
    """A ``--policy-pack-config`` JSON file; a clear error names what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read policy config {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ValueError(f"policy config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"policy config {path} must be a JSON object of policy name -> level/config")
    return data


def check_stack_policies(graph: StackGraph, project_dir: Optional[Path] = None,
                         config_path: Optional[Path] = None,
                         pack_dir: Optional[Path] = None) -> PolicyReport:
    """What ``securestore preview`` reports: the pack from ``pack_dir`` (any directory holding
    ``rules/``, default ``<project>/policies``) with the stack's policy config
    (``config_path``, else ``<project>/policies/config/<stack>.json`` when it exists)."""
    from .project import find_project_dir

    directory = find_project_dir(project_dir)
    path = config_path or default_config_path(directory, graph.stack)
    config = load_policy_config(path) if path else {}
    pack_name, policies = load_policies(directory, pack_dir=pack_dir)
    _refuse_unknown_rules(config, policies, path)
    return run_policies(graph, policies=policies, config=config, pack_name=pack_name)


def _refuse_unknown_rules(config: Mapping[str, Any], policies: list[Any], path: Optional[Path]) -> None:
    """A misspelt rule name in a pack config would leave that rule at its default, silently."""
    import difflib

    names = [p.name for p in policies]
    unknown = sorted(set(config) - set(names) - {"all"})
    if unknown:
        hints = [f"{name!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
            name, names, n=1)) else "") for name in unknown]
        raise ValueError(f"policy config {path} names rules the pack does not have: {', '.join(hints)}")


def _resolve_config(policy: Any, config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(enforcement level, properties) for ``policy`` after ``config`` and schema defaults."""
    level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
    properties: dict[str, Any] = {}
    schema = getattr(policy.config_schema, "properties", None) or {}
    for key, spec in schema.items():
        if "default" in spec:
            properties[key] = copy.deepcopy(spec["default"])
    for key in ("all", policy.name):
        entry = config.get(key)
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, Mapping) and key == policy.name:
            for k, v in entry.items():
                if k == "enforcementLevel":
                    level = v
                else:
                    if k not in schema:
                        raise ValueError(f"policy config for {policy.name!r} has unknown property {k!r}; "
                                         f"allowed: {sorted(schema)}")
                    properties[k] = v
    if level not in LEVELS:
        raise ValueError(f"policy config for {policy.name!r}: enforcement level {level!r} is not one of {LEVELS}")
    return level, properties


def _await(result: Any) -> Any:
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(result)
        finally:
            loop.close()
    return result


def _options(resource: RecordedResource) -> Any:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions

    return PolicyResourceOptions(resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [],
                                 resource.parent)


def _split_message(message: str, default_remediation: str) -> tuple[str, str]:
    if REMEDIATION_MARKER in message:
        problem, remediation = message.split(REMEDIATION_MARKER, 1)
        return problem.strip(), remediation.strip()
    return message.strip(), default_remediation or ""


def run_policies(
    graph: StackGraph,
    *,
    policies: Optional[Iterable[Any]] = None,
    config: Optional[Mapping[str, Any]] = None,
    pack_name: Optional[str] = None,
    project_dir: Optional[Path] = None,
) -> PolicyReport:
    """Evaluate every policy over ``graph``; never raises for a violation, only reports it."""
    from pulumi_policy import (
        PolicyResource,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
        StackValidationPolicy,
    )
    from pulumi_policy.policy import _NotApplicableError
    from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

    if policies is None:
        pack_name, policies = load_policies(project_dir)
    policies = list(policies)
    config = dict(config or {})
    report = PolicyReport(stack=graph.stack, pack=pack_name or "policies", policies_run=0)
    by_urn = graph.by_urn()
    resolved = {p.name: _resolve_config(p, config) for p in policies}
    active = [p for p in policies if resolved[p.name][0] != "disabled"]
    report.policies_run = len(active)

    def reporter(policy: Any, level: str, default_resource: Optional[RecordedResource]):
        def report_violation(message: str, urn: Optional[str] = None) -> None:
            resource = default_resource if default_resource is not None else by_urn.get(urn or "")
            problem, remediation = _split_message(message or "", policy.remediation_steps or "")
            if resource is not None:
                # The report line already names the resource; drop the rule's own prefix.
                prefix = f"{resource.type.split(':')[-1]} '{resource.name}': "
                problem = problem[len(prefix):] if problem.startswith(prefix) else problem
            report.violations.append(Violation(
                policy=policy.name,
                enforcement="mandatory" if level == "remediate" else level,
                severity=policy.severity.value if policy.severity else "unspecified",
                controls=getattr(policy.framework, "reference", "") or "",
                urn=resource.urn if resource else (urn or ""),
                resource_type=resource.type if resource else "pulumi:pulumi:Stack",
                resource_name=resource.name if resource else graph.stack,
                problem=problem,
                remediation=remediation,
            ))
        return report_violation

    # Remediate, then Analyze, per resource: the engine's order for resource policies.
    current_inputs: dict[str, dict[str, Any]] = {}
    for resource in graph.resources:
        inputs = copy.deepcopy(resource.inputs)
        for policy in active:
            level, properties = resolved[policy.name]
            if level != "remediate" or not isinstance(policy, ResourceValidationPolicy) \
                    or not policy.has_remediation():
                continue
            args = ResourceValidationArgs(resource.type, unknown_checking_proxy(copy.deepcopy(inputs)),
                                          resource.urn, resource.name, _options(resource), None, properties)
            try:
                new_props = _await(policy.remediate(args))
            except UnknownValueError as exc:
                report.skipped.append(f"{policy.name} on {resource.name}: {exc.message}")
                continue
            except _NotApplicableError:
                continue
            if new_props:
                new_plain = json.loads(json.dumps(_unproxy(new_props)))
                changed = tuple(sorted(k for k in set(new_plain) | set(inputs)
                                       if new_plain.get(k) != inputs.get(k)))
                inputs = new_plain
                report.remediations.append(Remediation(policy.name, resource.urn, changed))
        current_inputs[resource.urn] = inputs

        # The proxy is read-only, so every rule may share one copy of the inputs (a deep
        # copy per rule and resource was most of the pack's time).
        shared_inputs = copy.deepcopy(inputs)
        options = _options(resource)
        for policy in active:
            level, properties = resolved[policy.name]
            if not isinstance(policy, ResourceValidationPolicy) or not policy.has_validation():
                continue
            args = ResourceValidationArgs(resource.type, unknown_checking_proxy(shared_inputs),
                                          resource.urn, resource.name, options, None, properties)
            try:
                _await(policy.validate(args, reporter(policy, level, resource)))
            except UnknownValueError as exc:
                report.skipped.append(f"{policy.name} on {resource.name}: {exc.message}")
            except _NotApplicableError as exc:
                report.skipped.append(f"{policy.name} on {resource.name}: not applicable ({exc.message})")

    # AnalyzeStack: every resource with its outputs, parents and dependencies linked. The
    # proxies are read-only, so the stack rules share one linked copy of the resources.
    stack_resources = {}
    for r in graph.resources:
        props = copy.deepcopy(r.outputs) if r.outputs else copy.deepcopy(current_inputs.get(r.urn, r.inputs))
        stack_resources[r.urn] = PolicyResource(r.type, unknown_checking_proxy(props), r.urn, r.name,
                                                _options(r), None, None, [], {})
    for r in graph.resources:
        node = stack_resources[r.urn]
        node.parent = stack_resources.get(r.parent) if r.parent else None
        node.dependencies = [stack_resources[d] for d in r.dependencies if d in stack_resources]
        node.property_dependencies = {
            key: [stack_resources[d] for d in urns if d in stack_resources]
            for key, urns in r.property_dependencies.items()
        }
    shared_resources = list(stack_resources.values())
    for policy in active:
        if not isinstance(policy, StackValidationPolicy):
            continue
        level, properties = resolved[policy.name]
        args = StackValidationArgs(shared_resources, properties)
        try:
            _await(policy.validate(args, reporter(policy, level, None)))
        except UnknownValueError as exc:
            report.skipped.append(f"{policy.name} on the stack: {exc.message}")
        except _NotApplicableError as exc:
            report.skipped.append(f"{policy.name} on the stack: not applicable ({exc.message})")
    return report


def _unproxy(value: Any) -> Any:
    """Plain JSON-able data from what a remediation returned (dicts, lists, proxies)."""
    if isinstance(value, Mapping):
        return {k: _unproxy(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_unproxy(v) for v in value]
    if hasattr(value, "value") and type(value).__name__ == "Secret":
        return _unproxy(value.value)
    return value
