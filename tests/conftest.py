"""Shared fixtures: the offline graph of each stack, built once per test session.

Evaluating a stack runs the whole program under mocks (about half a second), so the graphs
are session-scoped and read-only; a test that needs different config calls
``evaluate_stack(..., config_overrides=...)`` itself.
"""

from __future__ import annotations

import gc
import os

import pytest

from support.hypothesis_profiles import load_profile

load_profile()  # before any test module builds its @settings (the hypothesis plugin is off)

from securestore.offline.engine import evaluate_stack  # noqa: E402
from securestore.offline.gc_pause import collector_paused  # noqa: E402
from securestore.offline.graph import StackGraph  # noqa: E402

STACKS = ("dev", "prod")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Last thing in a test session: exempt every live object from the garbage collector.

    A session that evaluated a stack holds pulumi_aws's module graph (hundreds of thousands
    of objects); the full collections the interpreter runs while it shuts down then took
    0.3-0.4 s after the last test, a fifth of a graph-test file's wall time
    (``bench/graph_tests.py``). Frozen objects are skipped by those collections; everything
    else about the exit (atexit handlers, flushing, fixtures already torn down) is unchanged.
    """
    gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def _upload_journals_stay_in_the_test_session(tmp_path_factory):
    """Every multipart upload is journalled under $XDG_STATE_HOME (older ones under
    $XDG_CACHE_HOME): keep tests' journals (and those of the CLI processes they start) out of
    the user's home."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("xdg-state"))  # erase journals, manifests


@pytest.fixture(scope="session")
def graphs() -> dict[str, StackGraph]:
    """Built as ``securestore preview`` builds them: with the collector paused, and the
    module graph they import moved to the oldest generation afterwards, so that the session's
    frequent young collections do not rescan it (``securestore.offline.gc_pause``)."""
    with collector_paused():
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

