"""``collector_paused``: the offline preview runs without cyclic collections and leaves the
collector as it found it (issue 17: ~0.11 s of a 0.75 s preview were collections)."""

from __future__ import annotations

import argparse
import gc

import pytest

from securestore.cli import preview as command
from securestore.offline.gc_pause import collector_paused


@pytest.fixture
def collector_restored():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_the_body_runs_without_the_collector_and_it_is_back_after(collector_restored):
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(collector_restored):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_error_in_the_body_still_restores_the_collector(collector_restored):
    gc.enable()
    with pytest.raises(RuntimeError, match="boom"):
        with collector_paused():
            raise RuntimeError("boom")
    assert gc.isenabled()


class _Node:
    """A weak-referenceable object to build cycles with."""

    def __init__(self) -> None:
        self.partner = None


def test_what_the_body_built_skips_the_young_generations(collector_restored):
    """Without this, the first collection after the pause scanned every object the pause had
    let accumulate (the whole imported module graph) as young objects."""
    gc.enable()
    gc.collect()
    with collector_paused():
        kept = [[index] for index in range(10_000)]  # 10,001 container objects, all tracked
        assert gc.get_count()[0] >= len(kept)
    assert gc.get_count()[0] < 1_000 and len(kept) == 10_000


def test_cyclic_garbage_made_during_the_pause_is_still_collected(collector_restored):
    """Promoted, not leaked: a full collection frees a cycle built while the collector was off
    (a plain ``gc.freeze`` would have kept it until the process exits)."""
    import weakref

    gc.enable()
    before = gc.get_freeze_count()
    with collector_paused():
        first, second = _Node(), _Node()
        first.partner, second.partner = second, first
        probe = weakref.ref(first)
        del first, second
    assert probe() is not None  # only a cycle holds it; nothing has collected it yet
    gc.collect()
    assert probe() is None
    assert gc.get_freeze_count() == before


def test_objects_the_caller_froze_stay_frozen(collector_restored):
    gc.enable()
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector_paused():
            kept = [[index] for index in range(100)]
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        if not frozen_before:
            gc.unfreeze()


def test_preview_evaluates_the_stack_with_the_collector_paused(monkeypatch, collector_restored):
    gc.enable()
    seen = []
    monkeypatch.setattr(command, "_preview", lambda args: seen.append(gc.isenabled()) or 0)
    assert command.run(argparse.Namespace()) == 0
    assert seen == [False] and gc.isenabled()
