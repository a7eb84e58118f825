"""Validation of a component's Args with the same rules ``settings`` applies to config.

``settings`` guards the program: a bad config value stops ``pulumi up`` naming the key. A
component used directly (from another program, or from any language through the component
package) never passes through ``settings``, so each constructor first runs its Args through
the same rule functions here, before it registers itself or any child. The error names the
Args field (Python and schema spelling), the value and what is allowed.

Only plain values are checked: an ``Output`` is not known before deployment, and the
fields the rules cover are declared plain in the schema for that reason. Rules that depend
on the stack's environment (prod-only requirements) stay in ``settings``; a component gets
the rules that hold everywhere (the ``dev`` set).
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Mapping, Optional, TypeVar

import pulumi

from . import settings as rules

T = TypeVar("T")

COMPONENT_ENVIRONMENT = "dev"
"""Prod-only rules (WAF on, a signer key, https origins only) are stack policy, not component rules."""


def camel_case(field: str) -> str:
    """The schema (and every other language's) name of a snake_case Args field."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class ComponentArgsError(ValueError):
    """An Args value a component refuses; the message names the component, field and rule."""

    def __init__(self, component: str, name: str, field: str, value: Any, allowed: str) -> None:
        self.component = component
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"{component} {name!r}: args.{field} ({camel_case(field)}) = {value!r} "
            f"is not allowed: {allowed}"
        )


def _plain(value: Any) -> Any:
    """Config-shaped raw value: tuples become lists, None becomes empty (as in config), and
    a whole float becomes an int: numbers cross the wire as floats, and the SDK's provider
    (pulumi 3.272 ``map_input_properties``) converts integer inputs and then overwrites
    the converted value with the float it received."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def check(
    component: str,
    name: str,
    args: Mapping[str, Any],
    fields: Mapping[str, str],
    rule: Callable[[dict[str, Any]], T],
) -> T:
    """Run ``rule`` over ``args`` renamed to config keys (``fields``: field -> key).

    Returns what the rule returns (the normalized value); re-raises its ``SettingsError``
    as a ``ComponentArgsError`` naming the Args field instead of the config key.
    """
    raw: dict[str, Any] = {}
    for field, key in fields.items():
        if field not in args:
            continue
        value = args[field]
        if isinstance(value, (pulumi.Output,)):
            continue
        raw[key] = _plain(value)
    try:
        return rule(raw)
    except rules.SettingsError as exc:
        key = exc.key.split(":", 1)[1]
        field = next((f for f, k in fields.items() if k == key), key)
        raise ComponentArgsError(component, name, field, exc.value, exc.allowed) from None


def require(component: str, name: str, args: Mapping[str, Any], args_type: type) -> None:
    """Every field the schema requires is present: a TypedDict does not check it in Python,
    and a missing one would otherwise fail half-way through the constructor."""
    hints = args_type.__annotations__  # not get_type_hints: pulumi.Input holds a ForwardRef
    for field in sorted(args_type.__required_keys__):  # type: ignore[attr-defined]
        optional = type(None) in typing.get_args(hints[field])
        if field not in args and not optional:
            raise ComponentArgsError(component, name, field, None, "a value (the field is required)")
    for field, value in sorted(args.items()):
        if isinstance(value, pulumi.Output) and field in hints and not accepts_output(hints[field]):
            raise ComponentArgsError(
                component, name, field, "<an Output>",
                "a plain value, known before deployment: the component checks it (or sets a resource "
                "option such as protect) before it creates anything; pass the value, not another "
                "resource's output (the schema's plain fields; every other input takes Outputs)")


def accepts_output(hint: Any) -> bool:
    """``pulumi.Input[...]``: a Union holding ``Output`` (a ``ForwardRef('Output[T]')`` as pulumi
    declares it), possibly inside ``NotRequired``/``Optional``/``Sequence``."""
    if hint is pulumi.Output or typing.get_origin(hint) is pulumi.Output:
        return True
    if isinstance(hint, typing.ForwardRef):
        return hint.__forward_arg__.split("[")[0] == "Output"
    return any(accepts_output(argument) for argument in typing.get_args(hint))


def key_rules(raw: dict[str, Any]) -> rules.KeySettings:
    return rules._key(raw)


def lifecycle_rules(raw: dict[str, Any]) -> rules.LifecycleSettings:
    return rules._lifecycle(raw)


def cors_rules(raw: dict[str, Any]) -> tuple[str, ...]:
    return rules._cors_origins(raw, COMPONENT_ENVIRONMENT)


def positive_days_rule(key: str, what: str) -> Callable[[dict[str, Any]], int]:
    return lambda raw: rules._in_range(key, rules._int(raw, key), 1, None, what)


def inventory_rule(raw: dict[str, Any]) -> Optional[str]:
    """``inventoryFormat``: absent or empty means no inventory, as ``off`` does in config."""
    return rules._inventory_format({"inventoryFormat": raw.get("inventoryFormat") or "off"})


def edge_rules(raw: dict[str, Any]) -> rules.EdgeSettings:
    return rules._edge(raw, COMPONENT_ENVIRONMENT)


def audit_rules(raw: dict[str, Any]) -> rules.AuditSettings:
    return rules._audit(raw, COMPONENT_ENVIRONMENT)


def access_rules(raw: dict[str, Any]) -> rules.AccessSettings:
    return rules._access(raw, COMPONENT_ENVIRONMENT, "component")
