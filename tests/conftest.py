"""Shared fixtures: the offline graph of each stack, built once per test session.

Evaluating a stack runs the whole program under mocks (about half a second), so the graphs
are session-scoped and read-only; a test that needs different config calls
``evaluate_stack(..., config_overrides=...)`` itself.
"""

from __future__ import annotations

import os

import pytest

from securestore.offline.engine import evaluate_stack
from securestore.offline.graph import StackGraph

STACKS = ("dev", "prod")


@pytest.fixture(autouse=True, scope="session")
def _upload_journals_stay_in_the_test_session(tmp_path_factory):
    """Every multipart upload is journalled under $XDG_CACHE_HOME: keep tests' journals (and
    those of the CLI processes they start) out of the user's ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def graphs() -> dict[str, StackGraph]:
    return {stack: evaluate_stack(stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def graph(request: pytest.FixtureRequest, graphs: dict[str, StackGraph]) -> StackGraph:
    """Each test that takes ``graph`` runs once per stack."""
    return graphs[request.param]


@pytest.fixture
def dev_graph(graphs: dict[str, StackGraph]) -> StackGraph:
    return graphs["dev"]


@pytest.fixture
def prod_graph(graphs: dict[str, StackGraph]) -> StackGraph:
    return graphs["prod"]

