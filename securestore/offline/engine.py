"""Run the Pulumi program for one stack under mocks and record what it registers.

This is what ``pulumi preview`` would send to the engine, minus the cloud: every
``RegisterResource`` call is recorded with its type, name, URN, parent, dependencies,
property dependencies, inputs, protect/retain flags and the state the mocks computed.
The tests, the policy runner and ``securestore preview`` read the returned graph.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pulumi.runtime import rpc

from .graph import RecordedResource, StackGraph
from .mocks import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, RealisticMocks
from .project import find_project_dir, load_project, stack_config

PROGRAM_FILE = "__main__.py"


class ProgramError(RuntimeError):
    """The program raised; ``graph`` holds what it registered before failing."""

    def __init__(self, stack: str, cause: BaseException, graph: StackGraph) -> None:
        super().__init__(f"stack {stack!r}: {cause}")
        self.graph = graph


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps every registration as a ``RecordedResource``."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        registration = self.resources.get(response.urn)
        self.records.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                custom=bool(request.custom),
                parent=request.parent or None,
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                inputs=dict(inputs),
                outputs=dict(registration.state) if registration and request.custom else {},
                id=(registration.id or None) if registration else None,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                provider=request.provider or None,
            )
        )
        return response


def evaluate_stack(
    stack: str,
    *,
    project_dir: Optional[Path] = None,
    config_overrides: Optional[Mapping[str, Any]] = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    transformations: Sequence[Callable[..., Any]] = (),
) -> StackGraph:
    """Run ``__main__.py`` for ``stack`` offline and return the recorded graph.

    ``config_overrides`` (keys without the project namespace) replace stack values, which
    is how tests try a bad setting. ``transformations`` are registered with
    ``pulumi.runtime.register_stack_transformation`` before the program runs (the policy
    pack's mutation tests weaken one resource that way). Raises ``ProgramError`` if the
    program fails.
    """
    directory = find_project_dir(project_dir)
    project = load_project(directory)
    config = stack_config(project, stack, config_overrides)
    region = config.get("aws:region", DEFAULT_REGION)

    monitor = RecordingMonitor(RealisticMocks(account_id=account_id, region=region))
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project.name, stack=stack, preview=False, monitor=monitor
    )
    set_all_config(config)

    exports: dict[str, Any] = {}

    def program() -> None:
        for transformation in transformations:
            pulumi.runtime.register_stack_transformation(transformation)
        runpy.run_path(str(directory / PROGRAM_FILE), run_name="__main__")
        root = pulumi_settings.get_root_resource()
        resolved = _sync_await(pulumi.Output.from_input(dict(root.outputs)).future())
        exports.update(resolved or {})

    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    prefix = f"{project.name}:"
    short_config = {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}

    def graph() -> StackGraph:
        return StackGraph(
            project=project.name,
            stack=stack,
            resources=list(monitor.records),
            exports=exports,
            config=short_config,
        )

    try:
        with _offline_engine_flag():
            _sync_await(run_pulumi_func(program))
    except Exception as exc:  # the program's own error, re-raised with the partial graph
        raise ProgramError(stack, exc, graph()) from exc
    return graph()


OFFLINE_ENGINE_ENV = "SECURESTORE_OFFLINE_ENGINE"
"""Read by ``components.lazy_args``: set only here, only while a program is evaluated, so the
recorded WAF stand-in is this engine's choice and a real deployment always gets typed classes."""


@contextlib.contextmanager
def _offline_engine_flag():
    previous = os.environ.get(OFFLINE_ENGINE_ENV)
    os.environ[OFFLINE_ENGINE_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(OFFLINE_ENGINE_ENV, None)
        else:
            os.environ[OFFLINE_ENGINE_ENV] = previous
