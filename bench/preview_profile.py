"""Where `securestore preview` spends its time: stages and imports, recorded vs typed WAF.

Runs the preview of one stack in fresh interpreters under ``python -X importtime``: once as
shipped (the WAF web ACL through ``components.lazy_args``' recorded stand-in) and once with
the typed ``pulumi_aws.wafv2`` module (``lazy_args.mode("typed")``, what every preview paid
before). Prints CPU seconds per stage (interpreter start, importing pulumi and the engine,
running the program, which imports the pulumi_aws modules it touches, the policy pack,
rendering) and the import self-time grouped by package. Medians of ``--repeat`` runs of each,
interleaved. For a call tree: ``.venv/bin/python -m pyinstrument -m securestore.cli preview
--stack prod``. The last line is the figure:

    .venv/bin/python bench/preview_profile.py [--stack prod] [--repeat 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cdk_env  # noqa: E402 - bench/ helper: the environment both sides of every bench run in

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"

_CHILD = """
import json, sys, time
stages = {"start": time.process_time()}
from securestore.offline.gc_pause import collector_paused
with collector_paused():  # as `securestore preview` runs (securestore/cli/preview.py)
    from securestore.offline.engine import evaluate_stack
    from securestore.offline.policy_runner import check_stack_policies
    from securestore.offline.tree import render_tree, render_summary
    from components import lazy_args
    stages["import pulumi + engine"] = time.process_time()
    with lazy_args.mode(sys.argv[2]):
        graph = evaluate_stack(sys.argv[1])
    stages["program (incl. pulumi_aws imports)"] = time.process_time()
    report = check_stack_policies(graph)
    stages["policy pack"] = time.process_time()
    text = render_tree(graph) + render_summary(graph) + report.format_text()
    stages["render"] = time.process_time()
assert report.passed, report.format_text()
print(json.dumps({"stages": stages, "resources": len(graph.resources)}))
"""

GROUPS = (
    ("pulumi_aws.wafv2", "pulumi_aws.wafv2"),
    ("pulumi_aws.", "pulumi_aws (other modules)"),
    ("pulumi_aws", "pulumi_aws (other modules)"),
    ("pulumi_policy", "pulumi_policy + policies"),
    ("policies", "pulumi_policy + policies"),
    ("pulumi", "pulumi SDK + grpc/protobuf/otel"),
    ("grpc", "pulumi SDK + grpc/protobuf/otel"),
    ("google", "pulumi SDK + grpc/protobuf/otel"),
    ("opentelemetry", "pulumi SDK + grpc/protobuf/otel"),
    ("securestore", "securestore + components"),
    ("components", "securestore + components"),
    ("cryptography", "cryptography"),
)


def group_of(module: str) -> str:
    for prefix, name in GROUPS:
        if module == prefix or module.startswith(prefix if prefix.endswith(".") else prefix + "."):
            return name
    return "stdlib + other"


def run(stack: str, mode: str) -> dict:
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-c", _CHILD, stack, mode],
        cwd=ROOT, capture_output=True, text=True, env=cdk_env.ENV,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result = json.loads(done.stdout)
    imports: dict[str, float] = collections.Counter()
    for match in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \| ( *)(\S+)", done.stderr):
        imports[group_of(match.group(3))] += int(match.group(1)) / 1e6
    stages = result["stages"]
    names = list(stages)
    cpu = {"interpreter start": stages["start"]}
    cpu.update({names[i]: stages[names[i]] - stages[names[i - 1]] for i in range(1, len(names))})
    return {"cpu": cpu, "imports": imports, "resources": result["resources"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod", choices=["dev", "prod"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="CI: one run of each mode, checked")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    runs: dict[str, list[dict]] = {"recorded": [], "typed": []}
    for round_ in range(args.repeat):
        for mode in (["recorded", "typed"] if round_ % 2 == 0 else ["typed", "recorded"]):
            runs[mode].append(run(args.stack, mode))

    counts = {r["resources"] for mode in runs for r in runs[mode]}
    if len(counts) != 1:  # both modes must build the same stack (each run's pack passed it)
        raise SystemExit(f"MISMATCH: the two modes registered different resource counts {sorted(counts)}")

    def med(mode: str, kind: str, key: str) -> float:
        return statistics.median(r[kind].get(key, 0.0) for r in runs[mode])

    print(f"preview --stack {args.stack}, CPU seconds (median of {args.repeat}), "
          f"{runs['recorded'][0]['resources']} resources")
    print(f"{'stage':40} {'as shipped':>11} {'typed wafv2':>12}")
    for stage in runs["recorded"][0]["cpu"]:
        print(f"{stage:40} {med('recorded', 'cpu', stage):11.3f} {med('typed', 'cpu', stage):12.3f}")
    total = {m: statistics.median(sum(r["cpu"].values()) for r in runs[m]) for m in runs}
    print(f"{'total':40} {total['recorded']:11.3f} {total['typed']:12.3f}")
    print("\nimport self-time by package (seconds, -X importtime, inflated by its own overhead)")
    groups = sorted({g for r in runs["typed"] for g in r["imports"]},
                    key=lambda g: -med("typed", "imports", g))
    for group in groups:
        print(f"{group:40} {med('recorded', 'imports', group):11.3f} {med('typed', 'imports', group):12.3f}")
    imports = {m: statistics.median(sum(r["imports"].values()) for r in runs[m]) for m in runs}
    print(f"{'all imports':40} {imports['recorded']:11.3f} {imports['typed']:12.3f}")
    print(
        f"preview {args.stack} profile: {total['recorded']:.2f} s CPU as shipped vs "
        f"{total['typed']:.2f} s with typed wafv2 ({total['typed'] / total['recorded']:.2f}x); "
        f"imports {imports['recorded']:.2f} vs {imports['typed']:.2f} s"
    )


if __name__ == "__main__":
    main()
