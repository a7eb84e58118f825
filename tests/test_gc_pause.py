"""``collector_paused``: the offline preview runs without cyclic collections and leaves the
collector as it found it (issue 17: ~0.11 s of a 0.75 s preview were collections)."""

from __future__ import annotations

import argparse
import gc

import pytest

from securestore.offline import command
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


def test_what_the_body_built_is_frozen_so_the_next_collection_skips_it(collector_restored):
    """Without the freeze, the first collection after the pause scanned every object the
    pause had let accumulate (the whole imported module graph)."""
    gc.enable()
    before = gc.get_freeze_count()
    with collector_paused():
        kept = [[index] for index in range(10_000)]  # 10,001 container objects, all tracked
    assert gc.get_freeze_count() - before >= len(kept)
    assert gc.get_count()[0] < 1_000  # the young generation holds nothing of it


def test_preview_evaluates_the_stack_with_the_collector_paused(monkeypatch, collector_restored):
    gc.enable()
    seen = []
    monkeypatch.setattr(command, "_preview", lambda args: seen.append(gc.isenabled()) or 0)
    assert command.run(argparse.Namespace()) == 0
    assert seen == [False] and gc.isenabled()
