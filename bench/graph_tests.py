"""Our graph-test file against a CDK ``Template.from_stack`` file of the same promises.

Ours: ``tests/stack/test_secure_bucket.py`` (45 tests: the SecureBucket promises over both stacks'
offline graphs, plus two extra configurations). CDK: ``bench/cdk/test_secure_bucket_cdk.py``
(the same 45 checks on the CDK app's synthesized templates). Each is one fresh
``python -m pytest -q -p no:cacheprovider FILE`` with the repository's pytest configuration,
so interpreter start, plugins, imports, building the stacks and the tests all count. Rounds
alternate which side goes first; the figure is the median of ``--repeat`` rounds (minimum
printed too), with the CPU seconds of each process tree beside it (steadier than wall time
on a shared machine). Creates ``.venv-cdk/`` on first use. The last line is the figure:

    .venv/bin/python bench/graph_tests.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cdk_env  # noqa: E402

ROOT = cdk_env.ROOT
PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
SIDES = {
    "ours": [str(ROOT / ".venv" / "bin" / "python"), *PYTEST, "tests/stack/test_secure_bucket.py"],
    "cdk": [str(cdk_env.PYTHON), *PYTEST, "bench/cdk/test_secure_bucket_cdk.py"],
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], cwd: Path = ROOT) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the whole tree, and the number of tests passed."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=cdk_env.env_for(cwd), capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu
    passed = re.search(r"(\d+) passed", done.stdout)
    if done.returncode != 0 or not passed or re.search(r"\d+ (failed|error)", done.stdout):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}")
    return wall, cpu, int(passed.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (median kept)")
    parser.add_argument("--baseline", metavar="DIR", type=Path,
                        help="also time the same test file in another checkout (before/after in one run), "
                        "with this virtualenv's interpreter and that checkout first on sys.path")
    parser.add_argument("--quick", action="store_true",
                        help="CI: one checked run of ours (and of the CDK file when .venv-cdk exists)")
    args = parser.parse_args()
    if args.quick:
        wall, _, count = run(SIDES["ours"])
        cdk = cdk_env.NOT_IN_CI
        if cdk_env.ready():
            cdk_wall, _, cdk_count = run(SIDES["cdk"])
            cdk = f"cdk Template.from_stack {cdk_wall:.2f} s ({cdk_count} tests), {cdk_wall / wall:.1f}x"
        print(f"graph tests (quick, one run, all passed): ours {wall:.2f} s ({count} tests); {cdk}")
        return
    cdk_env.ensure()
    sides = {name: (command, ROOT) for name, command in SIDES.items()}
    if args.baseline:
        sides["baseline"] = (SIDES["ours"], args.baseline.resolve())

    counts = {name: run(*side)[2] for name, side in sides.items()}  # warm-up, checked
    walls: dict[str, list[float]] = {name: [] for name in sides}
    cpus: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.repeat):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            wall, cpu, _ = run(*sides[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
        print(f"round {round_ + 1}: " + ", ".join(f"{name} {walls[name][-1]:.2f} s" for name in names),
              flush=True)

    median = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    for name, label in (("ours", "tests/stack/test_secure_bucket.py"),
                        ("cdk", "bench/cdk/test_secure_bucket_cdk.py")):
        print(f"{label}: {counts[name]} passed; wall median {median[name]:.2f} s, "
              f"min {min(walls[name]):.2f} s over {args.repeat}; CPU median {cpu[name]:.2f} s")
    if "baseline" in median:
        print(f"baseline ({args.baseline}): {counts['baseline']} passed; wall median "
              f"{median['baseline']:.2f} s, CPU median {cpu['baseline']:.2f} s; cdk / baseline "
              f"{median['cdk'] / median['baseline']:.2f}x; baseline / ours "
              f"{median['baseline'] / median['ours']:.2f}x")
    print(f"ratio of medians {median['cdk'] / median['ours']:.2f}x, of minimums "
          f"{min(walls['cdk']) / min(walls['ours']):.2f}x, of CPU {cpu['cdk'] / cpu['ours']:.2f}x")
    print(
        f"graph tests: ours {median['ours']:.2f} s ({counts['ours']} tests), "
        f"cdk Template.from_stack {median['cdk']:.2f} s ({counts['cdk']} tests), "
        f"{median['cdk'] / median['ours']:.1f}x"
    )


if __name__ == "__main__":
    main()
