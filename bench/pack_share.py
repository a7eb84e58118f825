"""The policy pack's share of `securestore preview --stack prod`.

Runs the preview as the command does (fresh interpreter, the collector paused) ``--repeat``
times and times each stage in CPU seconds: start-up and imports, running the program under
the mocks, the policy pack (``check_stack_policies``: every rule, the model built once),
rendering. The pack's share is its CPU over the whole process's CPU (interpreter start-up
included, measured by the parent with ``resource.getrusage``). Target: under 20%.
``--quick``: one run, and it checks itself (the stack passes the pack, every rule ran).

Last line: ``pack share of preview --stack prod: P% (pack S s of T s CPU, median of N)``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"

_CHILD = """
import json, sys, time
from securestore.offline.gc_pause import collector_paused
t0 = time.process_time()
with collector_paused():
    from securestore.offline.engine import evaluate_stack
    from securestore.offline.policy_runner import check_stack_policies
    from securestore.offline.tree import render_tree
    t1 = time.process_time()
    graph = evaluate_stack(sys.argv[1], project_dir=sys.argv[2])
    t2 = time.process_time()
    report = check_stack_policies(graph, sys.argv[2])
    t3 = time.process_time()
    render_tree(graph)
    report.format_text()
    t4 = time.process_time()
from policies.rules import ALL_POLICIES
print(json.dumps({"imports": t1 - t0, "program": t2 - t1, "pack": t3 - t2, "render": t4 - t3,
                  "passed": report.passed and not report.violations,
                  "complete": report.policies_run == len(ALL_POLICIES)}))
"""


def run(stack: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(PYTHON if PYTHON.exists() else sys.executable), "-c", _CHILD, stack, str(ROOT)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    stages["process"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return stages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run that checks itself")
    args = parser.parse_args(argv)
    runs = [run(args.stack) for _ in range(1 if args.quick else args.repeat)]
    for stage in ("imports", "program", "pack", "render", "process"):
        print(f"{stage:10} {statistics.median(r[stage] for r in runs):7.3f} s CPU")
    if not all(r["passed"] and r["complete"] for r in runs):
        print("SELF-CHECK FAILED: the stack did not pass every rule of the pack")
        return 1
    pack = statistics.median(r["pack"] for r in runs)
    total = statistics.median(r["process"] for r in runs)
    print(f"pack share of preview --stack {args.stack}: {100 * pack / total:.1f}% "
          f"(pack {pack:.2f} s of {total:.2f} s CPU, median of {len(runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
