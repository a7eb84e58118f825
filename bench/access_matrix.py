"""Access matrix over both stacks: size, unexpected cells, and both evaluators' speed.

First the attacker matrix generated from each stack's graph (``tests/access/generated.py``:
every resource x every IAM action of its type x every attacker profile, compared with the
access model), then the hand-written S3 matrix. The LAST line is the generated matrix:
``generated access matrix: <cells> cells (dev <n>, prod <n>), principalmapper differs
outside its gaps on <n>, ours <t> us/cell, principalmapper <t> us/cell; <n> unexpected``.
``--quick``: dev only (the hand matrix every 7th cell); exit 1 if a cell is unexpected.

Runs the same cells as ``tests/access/test_access_matrix.py`` (documents from each stack's offline
graph, expectations from that test module) with our IAM evaluator and with principalmapper,
and prints the figure on the last line:
``access matrix: <cells> cells (dev+prod), <n> unexpected (ours), principalmapper ...;
attacker rows: ...; trust rows: ...``. Attacker rows are the cells that try what an
attacker would: every bucket-level Put*/Delete* action, every object action by the tenant
sessions given ``s3:*``/``*``, writes of dot- or empty-segment keys; trust rows ask the
uploader and tenant roles for a tenant the caller is or is not entitled to.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from access import evaluator, pmapper  # noqa: E402
from access.matrix import (  # noqa: E402
    ATTACKERS,
    BUCKET_OPERATION,
    OBJECT_ATTACK_OPERATION,
    callers,
    cells,
    checks_for,
    has_dot_or_empty_segment,
)
from access.stack_access import stack_access  # noqa: E402
from securestore.offline.engine import evaluate_stack  # noqa: E402
from access.test_access_matrix import PUT_OBJECT_OPERATIONS, _pm_expected, ec2_mode, expected, trust_expected, trust_rows_for  # noqa: E402


def is_attack(cell) -> bool:
    return (
        cell.operation.startswith((BUCKET_OPERATION, OBJECT_ATTACK_OPERATION))
        or cell.caller in ATTACKERS
        or (cell.operation in PUT_OBJECT_OPERATIONS and has_dot_or_empty_segment(cell.key))
    )


def generated_matrix(stacks) -> tuple[str, int]:
    """The generated matrix of ``stacks``: its summary line, and unexpected cells plus
    principalmapper's disagreements outside its documented gaps."""
    from access.generated import generate
    from access.test_generated_matrix import _pm_gap

    sizes, unexpected, pm_outside = {}, 0, 0
    ours_seconds = pm_seconds = 0.0
    for stack in stacks:
        graph = evaluate_stack(stack)
        started = time.perf_counter()
        found = generate(graph)
        ours_seconds += time.perf_counter() - started
        sizes[stack] = len(found)
        unexpected += sum(c.unexpected for c in found)
        started = time.perf_counter()
        pm_outside += sum(pmapper.pm_authorize(c.caller, c.check) != c.allowed and _pm_gap(c) is None for c in found)
        pm_seconds += time.perf_counter() - started
    total = sum(sizes.values())
    line = (f"generated access matrix: {total} cells ({', '.join(f'{k} {v}' for k, v in sizes.items())}), "
            f"principalmapper differs outside its gaps on {pm_outside}, "
            f"ours {ours_seconds * 1e6 / total:.0f} us/cell (generation included), "
            f"principalmapper {pm_seconds * 1e6 / total:.0f} us/cell; {unexpected} unexpected")
    return line, unexpected + pm_outside


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="dev stack, every 7th cell (CI); exit 1 on any unexpected cell of ours")
    quick = parser.parse_args().quick
    stride = 7 if quick else 1
    total = unexpected_ours = unexpected_pm = differ = 0
    attack_total = attack_unexpected = attack_pm_unexpected = 0
    trust_total = trust_unexpected = trust_differ = 0
    differing_keys: set[str] = set()
    ours_seconds = pm_seconds = 0.0
    for stack in ("dev",) if quick else ("dev", "prod"):
        access = stack_access(evaluate_stack(stack))
        mode = ec2_mode(access)
        who = callers(access)
        for index, cell in enumerate(cells(who)):
            if index % stride:
                continue
            checks = checks_for(access, who[cell.caller], cell)
            started = time.perf_counter()
            ours = all(evaluator.authorize(who[cell.caller], c) for c in checks)
            middle = time.perf_counter()
            theirs = all(pmapper.pm_authorize(who[cell.caller], c) for c in checks)
            ours_seconds += middle - started
            pm_seconds += time.perf_counter() - middle
            total += 1
            wrong, pm_wrong = ours != expected(cell, mode), theirs != _pm_expected(cell, mode)
            unexpected_ours += wrong
            unexpected_pm += pm_wrong
            differ += ours != theirs
            if is_attack(cell):
                attack_total += 1
                attack_unexpected += wrong
                attack_pm_unexpected += pm_wrong
            if ours != theirs:
                differing_keys.add(cell.key)
        for cell, ours, theirs in trust_rows_for(stack):
            trust_total += 1
            trust_unexpected += ours != trust_expected(cell)
            trust_differ += ours != theirs
        print(f"{stack}: ec2 {mode}, {sum(1 for _ in cells(who))} cells")
    print(f"ours: {ours_seconds * 1e6 / total:.0f} us/cell; principalmapper: {pm_seconds * 1e6 / total:.0f} us/cell")
    print(
        f"access matrix: {total} cells ({'dev, every 7th' if quick else 'dev+prod'}), {unexpected_ours} unexpected (ours), "
        f"principalmapper {unexpected_pm} unexpected outside its known gaps, "
        f"{differ} cells differ, on keys {sorted(differing_keys)}; "
        f"attacker rows: {attack_total} cells, {attack_unexpected} unexpected (ours), {attack_pm_unexpected} (principalmapper); "
        f"trust rows: {trust_total} cells, {trust_unexpected} unexpected, evaluators differ on {trust_differ}; "
        f"ours {pm_seconds / ours_seconds:.1f}x principalmapper's speed"
    )
    line, generated_bad = generated_matrix(("dev",) if quick else ("dev", "prod"))
    print(line)
    return 1 if (unexpected_ours or trust_unexpected or generated_bad) else 0


if __name__ == "__main__":
    sys.exit(main())
