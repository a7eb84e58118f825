"""Wall time and peak RSS of evaluating each stack offline, and of the infra unit suite.

Each stack is measured as the user runs it, `securestore preview --stack <name>` (program
under mocks plus the policy pack), in a fresh interpreter, so imports (pulumi, pulumi_aws,
grpc) count. Peak RSS is the child's own VmHWM (``ru_maxrss`` of a child also counts the
parent's pages from before exec). Target from the foundation
issue: under 1.5 s and 150 MiB per stack (the equivalent CDK synth takes ~6 s and
0.5-1 GiB on these machines). The last line prints every figure.

    .venv/bin/python bench/preview.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "prod")
INFRA_TESTS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "tests").glob("test_*.py")
    if not any(word in p.name for word in ("localstack", "transfer", "s3presign", "cloudfront_sign", "keys", "sts", "client_cli"))
)

_CHILD = """
import contextlib, io, json, os, re, sys, time
start = time.perf_counter()
from securestore.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["preview", "--stack", sys.argv[1], "--json"])
elapsed = time.perf_counter() - start
hwm = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)
report = json.loads(out.getvalue())
print(json.dumps({"seconds": elapsed, "code": code, "resources": len(report["resources"]),
                  "rss_kib": int(hwm)}))
sys.stdout.flush()
os._exit(0)  # as the console script does: skip the teardown of pulumi_aws's modules
"""


def measure(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB of the child, and its stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out = process.stdout.read()
    err = process.stderr.read()
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out}\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack; the best is kept")
    args = parser.parse_args()

    figures = []
    for stack in STACKS:
        runs = [measure([sys.executable, "-c", _CHILD, stack]) for _ in range(args.repeat)]
        wall, _, out = min(runs, key=lambda r: r[0])
        inner = json.loads(out)
        rss = inner["rss_kib"] / 1024
        if inner["code"] != 0:
            raise SystemExit(f"securestore preview --stack {stack} exited {inner['code']}")
        print(
            f"{stack}: {inner['resources']} resources, `securestore preview` {wall:.2f} s "
            f"(in-process {inner['seconds']:.2f} s), peak RSS {rss:.0f} MiB"
        )
        figures.append(f"{stack} {wall:.2f} s / {rss:.0f} MiB")

    wall, rss, out = measure([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *INFRA_TESTS])
    summary = out.strip().splitlines()[-1]
    print(f"infra unit suite ({len(INFRA_TESTS)} modules): {summary}; {wall:.2f} s, peak RSS {rss:.0f} MiB")
    figures.append(f"unit suite {wall:.2f} s / {rss:.0f} MiB")
    print("preview offline: " + "; ".join(figures) + " (target per stack < 1.5 s / 150 MiB)")


if __name__ == "__main__":
    main()
