"""What the recording monitor saw: one record per registered resource, and the stack.

Plain dataclasses with no Pulumi inside, so that the policy runner, the tree printer and
the tests can read a graph without knowing how it was produced. Property names are the
wire (camelCase) names the engine and CrossGuard see, nested keys included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional


@dataclass(frozen=True)
class RecordedResource:
    """One ``RegisterResource`` call as the engine would receive it."""

    type: str
    """Type token, e.g. ``aws:s3/bucket:Bucket`` or ``securestore:storage:SecureBucket``."""
    name: str
    """Logical (Pulumi) name."""
    urn: str
    custom: bool
    """True for provider resources (AWS), False for components."""
    parent: Optional[str]
    """URN of the parent, None for the stack itself."""
    dependencies: tuple[str, ...]
    """URNs this resource depends on (explicit ``depends_on`` and those implied by inputs)."""
    property_dependencies: dict[str, tuple[str, ...]]
    """camelCase input name -> URNs that input's value came from."""
    inputs: dict[str, Any]
    """Resolved inputs, camelCase keys (what CrossGuard's resource policies see)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """State returned by the mocks: inputs plus computed fields (arn, bucket, ...)."""
    id: Optional[str] = None
    protect: bool = False
    retain_on_delete: bool = False
    provider: Optional[str] = None

    @property
    def props(self) -> dict[str, Any]:
        """Outputs when known, else inputs: the view a stack policy gets after an update."""
        return self.outputs or self.inputs


@dataclass
class StackGraph:
    """Everything one offline evaluation produced."""

    project: str
    stack: str
    resources: list[RecordedResource]
    exports: dict[str, Any]
    config: dict[str, Any]
    """The project config the program ran with, keys without the ``project:`` prefix."""

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type in types]

    def one(self, type_: str) -> RecordedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise LookupError(f"expected exactly one {type_}, found {len(found)}")
        return found[0]

    def children(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def custom_resources(self) -> Iterator[RecordedResource]:
        return (r for r in self.resources if r.custom)
