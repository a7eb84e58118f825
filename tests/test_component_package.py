"""The components as a package other programs reuse: a stable graph, a stable schema.

Attack class: a silent change of the public interface. A refactor that renames a child,
re-parents it or changes an input replaces live resources (a new URN is a delete plus a
create: a new, empty bucket); a changed Args field breaks every program that consumes the
package. Both are pinned by golden files under ``tests/golden/`` (see ``tests/goldens.py``).
"""

from __future__ import annotations

import pytest

from goldens import check_golden, stack_graph_record
from securestore.offline.graph import StackGraph


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_graph_is_unchanged_urns_parents_and_inputs(graphs: dict[str, StackGraph], stack: str):
    """Promise: reshaping the components into a package replaces nothing in an existing stack.
    Every resource keeps its URN (type and name), parent, provider, protect/retain flags and
    inputs, compared with the golden recorded before the change."""
    check_golden(f"stack-graph.{stack}.json", stack_graph_record(graphs[stack]))
