"""Offline preview against `cdk synth` of the same stack, interleaved in one run.

Ours: ``.venv/bin/securestore preview --stack prod`` as the user runs it (fresh interpreter,
imports included: the program under mocks plus the whole policy pack, tree and report
printed). CDK: ``cdk synth --no-notices -c stack=prod`` of ``bench/cdk/app.py`` with the
``aws-cdk`` CLI (Node starts, runs the Python app, which starts the jsii kernel in another
Node and synthesizes; the CLI prints the template). Telemetry and notices are off, which
only helps CDK. Both print to a pipe that is thrown away.

Rounds alternate which side goes first; the figure is the median of ``--repeat`` rounds
(the minimum is printed too), with the CPU seconds of each process tree beside it (steadier
than wall time on a shared machine; a grandchild its parent does not wait for is not
counted, which can only flatter CDK). Peak RSS comes from one extra, untimed run of each: the sum
of every process's peak in the command's process tree (see ``bench/cdk_env.py``).
Creates ``.venv-cdk/`` on first use. The last line is the figure:

    .venv/bin/python bench/preview.py [--repeat 5] [--stack prod]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cdk_env  # noqa: E402

ROOT = cdk_env.ROOT
OURS = ROOT / ".venv" / "bin" / "securestore"


def commands(stack: str, baseline: Optional[Path] = None) -> dict[str, tuple[list[str], Path]]:
    sides = {
        "ours": ([str(OURS), "preview", "--stack", stack], ROOT),
        "cdk": ([str(cdk_env.CDK_CLI), "synth", "--no-notices", "-c", f"stack={stack}"],
                cdk_env.CDK_APP_DIR),
    }
    if baseline is not None:
        # Another checkout (e.g. a `git worktree` of the commit before a change), run by this
        # virtualenv's interpreter from that directory: its securestore/, components/ and
        # policies/ come first on sys.path, before this checkout's editable install.
        sides["baseline"] = ([str(ROOT / ".venv" / "bin" / "python"), "-c",
                              "from securestore.cli import entry; entry()", "preview", "--stack", stack],
                             baseline)
    return sides


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the waited-for process tree, stdout."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=cdk_env.env_for(cwd), capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return wall, cpu, done.stdout


def check_ours(stack: str, ours: str) -> None:
    """Ours built the stack asked for and the pack passed it (a fast failure is not a fast preview)."""
    if f"{stack}-edge-waf" not in ours and stack == "prod":
        raise SystemExit("ours: no WAF web ACL in the printed tree")
    if "Policy check passed." not in ours:
        raise SystemExit("ours: the policy report did not pass")


def check_outputs(stack: str, ours: str, cdk: str) -> None:
    """Both sides built the stack asked for (a fast failure is not a fast preview)."""
    check_ours(stack, ours)
    if "AWS::CloudFront::Distribution" not in cdk or (
        stack == "prod" and "AWS::WAFv2::WebACL" not in cdk
    ):
        raise SystemExit("cdk synth: the template lacks the distribution or the web ACL")


def quick(stack: str) -> None:
    sides = commands(stack)
    wall, _, out = timed(*sides["ours"])
    check_ours(stack, out)
    cdk = cdk_env.NOT_IN_CI
    if cdk_env.ready():
        cdk_wall, _, cdk_out = timed(*sides["cdk"])
        check_outputs(stack, out, cdk_out)
        cdk = f"cdk synth {cdk_wall:.2f} s, {cdk_wall / wall:.1f}x"
    print(f"preview {stack} (quick, one run, tree and policy report checked): ours {wall:.2f} s; {cdk}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (median kept)")
    parser.add_argument("--stack", default="prod", choices=["dev", "prod"])
    parser.add_argument("--baseline", metavar="DIR", type=Path,
                        help="also time the preview of another checkout (before/after in one run)")
    parser.add_argument("--quick", action="store_true",
                        help="CI: one checked run of ours (and of cdk synth when .venv-cdk exists)")
    args = parser.parse_args()
    if args.quick:
        return quick(args.stack)
    cdk_env.ensure()
    sides = commands(args.stack, args.baseline.resolve() if args.baseline else None)

    # One untimed run of each: warms the disk cache and checks what both produce.
    outputs = {name: timed(*sides[name])[2] for name in sides}
    check_outputs(args.stack, outputs["ours"], outputs["cdk"])
    if "baseline" in outputs:
        check_outputs(args.stack, outputs["baseline"], outputs["cdk"])

    times: dict[str, list[float]] = {name: [] for name in sides}
    cpus: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.repeat):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            wall, cpu, _ = timed(*sides[name])
            times[name].append(wall)
            cpus[name].append(cpu)
        print(f"round {round_ + 1}: " + ", ".join(f"{name} {times[name][-1]:.2f} s" for name in names),
              flush=True)
    rss = {name: cdk_env.peak_tree_rss_mib(command, cwd=cwd, env=cdk_env.env_for(cwd))
           for name, (command, cwd) in sides.items()}

    median = {name: statistics.median(values) for name, values in times.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    for name, label in (("ours", "securestore preview"), ("cdk", "cdk synth")):
        print(f"{label}: wall median {median[name]:.2f} s, min {min(times[name]):.2f} s, "
              f"max {max(times[name]):.2f} s over {args.repeat}; CPU median {cpu[name]:.2f} s; "
              f"peak RSS {rss[name]:.0f} MiB")
    if "baseline" in median:
        print(f"baseline ({args.baseline}): wall median {median['baseline']:.2f} s, CPU median "
              f"{cpu['baseline']:.2f} s, peak RSS {rss['baseline']:.0f} MiB; cdk synth / baseline "
              f"{median['cdk'] / median['baseline']:.2f}x; baseline / ours {median['baseline'] / median['ours']:.2f}x")
    print(
        f"ratio of medians {median['cdk'] / median['ours']:.2f}x, "
        f"of minimums {min(times['cdk']) / min(times['ours']):.2f}x, "
        f"of CPU {cpu['cdk'] / cpu['ours']:.2f}x"
    )
    print(
        f"preview {args.stack}: ours {median['ours']:.2f} s, cdk synth {median['cdk']:.2f} s, "
        f"{median['cdk'] / median['ours']:.1f}x; RSS {rss['ours']:.0f} vs {rss['cdk']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
