"""Access matrix over both stacks: size, unexpected cells, and both evaluators' speed.

Runs the same cells as ``tests/test_access_matrix.py`` (documents from each stack's offline
graph, expectations from that test module) with our IAM evaluator and with principalmapper,
and prints the figure on the last line:
``access matrix: <cells> cells (dev+prod), <n> unexpected (ours), principalmapper ...``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from access import evaluator, pmapper  # noqa: E402
from access.matrix import callers, cells, checks_for  # noqa: E402
from access.stack_access import stack_access  # noqa: E402
from securestore.offline.engine import evaluate_stack  # noqa: E402
from test_access_matrix import _pm_expected, ec2_mode, expected  # noqa: E402


def main() -> None:
    total = unexpected_ours = unexpected_pm = differ = 0
    differing_keys: set[str] = set()
    ours_seconds = pm_seconds = 0.0
    for stack in ("dev", "prod"):
        access = stack_access(evaluate_stack(stack))
        mode = ec2_mode(access)
        who = callers(access)
        for cell in cells(who):
            checks = checks_for(access, who[cell.caller], cell)
            started = time.perf_counter()
            ours = all(evaluator.authorize(who[cell.caller], c) for c in checks)
            middle = time.perf_counter()
            theirs = all(pmapper.pm_authorize(who[cell.caller], c) for c in checks)
            ours_seconds += middle - started
            pm_seconds += time.perf_counter() - middle
            total += 1
            unexpected_ours += ours != expected(cell, mode)
            unexpected_pm += theirs != _pm_expected(cell, mode)
            differ += ours != theirs
            if ours != theirs:
                differing_keys.add(cell.key)
        print(f"{stack}: ec2 {mode}, {sum(1 for _ in cells(who))} cells")
    print(f"ours: {ours_seconds * 1e6 / total:.0f} us/cell; principalmapper: {pm_seconds * 1e6 / total:.0f} us/cell")
    print(
        f"access matrix: {total} cells (dev+prod), {unexpected_ours} unexpected (ours), "
        f"principalmapper {unexpected_pm} unexpected outside its case-folding gap, "
        f"{differ} cells differ, on keys {sorted(differing_keys)}"
    )


if __name__ == "__main__":
    main()
