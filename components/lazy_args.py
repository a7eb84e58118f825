"""Typed pulumi-aws ``*Args`` for modules whose import costs more than the stack they build.

``pulumi_aws.wafv2`` defines about 2,000 input and output classes in one module; importing it
takes ~1.1 s of CPU, longer than evaluating the whole rest of the stack, and only the WAF web
ACL needs it. ``module("pulumi_aws.wafv2")`` gives the component the same names to build it
with, in one of two modes:

* **typed**: the real module. Every ``*Args`` class checks its keywords (a misspelt input
  raises ``TypeError``), and the resource is the real ``aws.wafv2.WebAcl``.
* **recorded**: a stand-in whose ``*Args`` are plain records of the keywords given, and
  whose resource classes register the same type token, inputs (Pulumi names, ``None``
  dropped, nested records as mappings), outputs and resource options (the provider version
  pulumi-aws pins) through ``pulumi.CustomResource``. No keyword is checked here.

**typed is the default**: a real ``pulumi up`` (or any program run outside the offline engine)
always registers through the real classes. Only the offline engine
(``securestore.offline.engine.evaluate_stack``) chooses otherwise, explicitly: it sets
``OFFLINE_ENGINE_ENV`` while it runs the program, which selects ``auto``: *typed* when the
module is already loaded (someone paid for it) and *recorded* otherwise. An environment
variable rather than a module attribute, because the program may import these components as
``components`` (this project) or ``securestore.components`` (an installed consumer): two module
objects, one process. ``mode()`` overrides both for the tests. The tests hold the two modes to one promise
(``tests/stack/test_lazy_args.py``): the stack's registrations are identical in both, field for
field, and the component built in typed mode refuses a misspelt input. So the check a typed
class gives runs in the test suite, where a mistake must be caught, and not in every preview.
Add a resource here only with its outputs copied from the generated class and a test.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from types import ModuleType
from typing import Any, Iterator, Mapping, Optional, Union

import pulumi

RESOURCES: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "pulumi_aws.wafv2": {
        # class name: (type token, output-only properties by their Pulumi names)
        "WebAcl": (
            "aws:wafv2/webAcl:WebAcl",
            ("applicationIntegrationUrl", "arn", "capacity", "lockToken", "tagsAll"),
        ),
    },
}
"""The resources each module's stand-in can register."""

MODES = ("auto", "typed", "recorded")
OFFLINE_ENGINE_ENV = "SECURESTORE_OFFLINE_ENGINE"
"""Set (to ``1``) by the offline engine while it evaluates a program; never by a deployment."""
_mode: Optional[str] = None
"""Set only by ``mode()``; ``None``: typed, or auto inside the offline engine."""


def pulumi_name(python_name: str) -> str:
    """``visibility_config`` -> ``visibilityConfig``, as pulumi-aws's generated getters name them."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class ArgsRecord:
    """The keywords one ``*Args`` call was given, to be serialized like the real class."""

    __slots__ = ("class_name", "kwargs")

    def __init__(self, class_name: str, kwargs: Mapping[str, Any]) -> None:
        self.class_name = class_name
        self.kwargs = dict(kwargs)

    def to_inputs(self) -> dict[str, Any]:
        return {pulumi_name(k): _inputs(v) for k, v in self.kwargs.items() if v is not None}

    def __repr__(self) -> str:
        return f"{self.class_name}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


def _inputs(value: Any) -> Any:
    if isinstance(value, ArgsRecord):
        return value.to_inputs()
    if isinstance(value, (list, tuple)):
        return [_inputs(v) for v in value]
    if isinstance(value, dict):
        return {k: _inputs(v) for k, v in value.items()}
    return value


class RecordedModule:
    """Stands in for a pulumi-aws module: ``*Args`` record, resources register by token."""

    def __init__(self, module_name: str) -> None:
        if module_name not in RESOURCES:
            raise ValueError(f"{module_name}: no recorded stand-in (known: {sorted(RESOURCES)})")
        self.__name__ = module_name
        self._resources = RESOURCES[module_name]

    def __getattr__(self, name: str) -> Any:
        if name.endswith("Args"):
            return lambda **kwargs: ArgsRecord(name, kwargs)
        if name in self._resources:
            token, outputs = self._resources[name]
            return _resource_class(token, outputs)
        raise AttributeError(
            f"{self.__name__}.{name}: the recorded stand-in knows only *Args and "
            f"{sorted(self._resources)}; add it to lazy_args.RESOURCES with a test"
        )


def _resource_class(token: str, outputs: tuple[str, ...]) -> Any:
    def register(
        resource_name: str, args: ArgsRecord, opts: Optional[pulumi.ResourceOptions] = None
    ) -> pulumi.CustomResource:
        from pulumi_aws import _utilities  # small; pulumi_aws itself is loaded already

        props = {**args.to_inputs(), **{name: None for name in outputs}}
        merged = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
        return pulumi.CustomResource(token, resource_name, props, merged)

    return register


def is_loaded(module_name: str) -> bool:
    """Imported for real: pulumi_aws registers its submodules as lazy modules that load on
    first attribute access, so being in ``sys.modules`` is not enough."""
    found = sys.modules.get(module_name)
    return found is not None and type(found).__getattribute__ is ModuleType.__getattribute__


def current_mode() -> str:
    """``mode()``'s choice if one is active, else ``auto`` inside the offline engine, else ``typed``."""
    if _mode is not None:
        return _mode
    return "auto" if os.environ.get(OFFLINE_ENGINE_ENV) == "1" else "typed"


def module(module_name: str) -> Union[ModuleType, RecordedModule]:
    """The real module (typed) or its recorded stand-in, by the current mode."""
    chosen = current_mode()
    typed = chosen == "typed" or (chosen == "auto" and is_loaded(module_name))
    return importlib.import_module(module_name) if typed else RecordedModule(module_name)


@contextlib.contextmanager
def mode(name: str) -> Iterator[None]:
    """Evaluate with ``typed`` or ``recorded`` modules (tests compare the two)."""
    global _mode
    if name not in MODES:
        raise ValueError(f"lazy_args mode {name!r}: expected one of {MODES}")
    previous, _mode = _mode, name
    try:
        yield
    finally:
        _mode = previous
