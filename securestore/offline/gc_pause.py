"""Pause Python's cyclic garbage collector while a stack is evaluated.

Evaluating a stack imports pulumi, grpc and the pulumi_aws modules the program touches,
then registers every resource: hundreds of thousands of long-lived objects (classes,
functions, module dicts) and little cyclic garbage. The collector, tuned for long-running
programs, ran ~340 collections during one offline preview of prod and spent ~0.11 s of its
0.75 s rescanning those objects (``bench/preview_profile.py``); with it paused the preview's
peak RSS grew by about 1 MiB. Reference counting still frees everything acyclic as usual.

On exit the objects created meanwhile are moved to the oldest generation unscanned (see
``_promote_to_oldest_generation``) before the previous state is restored. Without that, the
first collection after re-enabling walked the whole new heap as "young" objects (~70 ms,
most of what the pause had saved). They stay collectable: cyclic garbage made during the
pause is freed by a later full collection, as garbage that had survived into the oldest
generation would be. A caller that had turned the collector off keeps it off.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with ``gc`` disabled; then promote what it built and restore the state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _promote_to_oldest_generation()
        if was_enabled:
            gc.enable()


def _promote_to_oldest_generation() -> None:
    """Move every tracked object into the oldest generation without scanning it.

    ``gc.freeze`` moves them to the permanent generation; ``gc.unfreeze`` puts the permanent
    generation back into the oldest one, where full collections (rare: only once the objects
    that survived since the last one exceed a quarter of the long-lived ones) still reach
    them, so cyclic garbage made during the pause is collected eventually, not leaked. When
    the caller had frozen objects of its own, unfreezing would undo that, so ours are left
    frozen with them."""
    already_frozen = gc.get_freeze_count()
    gc.freeze()
    if not already_frozen:
        gc.unfreeze()
