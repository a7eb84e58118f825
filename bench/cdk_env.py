"""The AWS CDK side of the benches: a git-ignored ``.venv-cdk/`` and how to run it.

``python bench/cdk_env.py`` (or any bench that needs it) creates, once:

* ``.venv-cdk/``: a virtualenv with ``bench/cdk/requirements.txt`` (aws-cdk-lib from PyPI,
  pytest, and what the app shares with ours: pyyaml, cryptography);
* ``.venv-cdk/node/``: the ``aws-cdk`` CLI from the npm registry (Node 20 is on the machine).

Nothing here is needed by the project's own tests. Also holds the process-tree peak-RSS
sampler both benches use: ``cdk synth`` is three processes (the CLI in Node, the Python app,
and the jsii kernel, another Node), so its memory is the sum of their peaks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDK_APP_DIR = ROOT / "bench" / "cdk"
VENV = ROOT / ".venv-cdk"
PYTHON = VENV / "bin" / "python"
NODE_PREFIX = VENV / "node"
CDK_CLI = NODE_PREFIX / "node_modules" / ".bin" / "cdk"
CDK_CLI_PACKAGE = "aws-cdk@2.1148.1"
"""The CLI version the figures in bench/README.md were measured with."""

ENV = {
    # Python's default bytecode cache for both sides: this machine's environment sets
    # PYTHONDONTWRITEBYTECODE=1, which no user's default has; with it every module outside
    # site-packages (our securestore/, components/, policies/; CDK's app.py and the shared
    # components.settings) is compiled from source on every run (~0.1 s of a preview).
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    # No network from the benches: no notices fetch, no telemetry (both only add time to CDK).
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    # Node 20 is past its end of life for jsii; the warning is not part of the work.
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}



NOT_IN_CI = ("cdk side skipped: it needs .venv-cdk (aws-cdk-lib from PyPI and the aws-cdk CLI from "
             "npm, made by `python bench/cdk_env.py`), which CI does not build")
"""What a ``--quick`` run says when the CDK reference is not there (the CI case)."""


def ready() -> bool:
    """``.venv-cdk`` and the CDK CLI exist (``--quick`` never creates them)."""
    return PYTHON.exists() and CDK_CLI.exists()


def env_for(cwd: Path) -> dict[str, str]:
    """``ENV`` for a command run in ``cwd``; for another checkout (``--baseline DIR``), with that
    checkout first on ``sys.path``, before this one's editable install."""
    if cwd in (ROOT, CDK_APP_DIR):
        return ENV
    return {**ENV, "PYTHONPATH": str(cwd)}

def ensure() -> None:
    """Create the CDK virtualenv and install the CLI if they are missing (a few minutes once)."""
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} (aws-cdk-lib from PyPI)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(PYTHON), "-c", "import aws_cdk, yaml, cryptography, pytest"],
                           capture_output=True)
    if probe.returncode != 0:
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "-q", "-r", str(CDK_APP_DIR / "requirements.txt")],
            check=True,
        )
    if not CDK_CLI.exists():
        print(f"installing {CDK_CLI_PACKAGE} from the npm registry...", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund", CDK_CLI_PACKAGE],
            check=True,
        )


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_tree_rss_mib(command: list[str], *, cwd: Path, env: dict, interval: float = 0.05) -> float:
    """Run ``command`` and return the sum over its process tree of each process's peak RSS.

    Sampling /proc costs CPU, so the benches call this in separate runs from the timed ones.
    """
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree = _children()
            stack, seen = [process.pid], []
            while stack:
                pid = stack.pop()
                seen.append(pid)
                stack.extend(tree.get(pid, []))
            for pid in seen:
                peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = status
    done.set()
    sampler.join()
    if status != 0:
        raise SystemExit(f"{' '.join(command)} exited {status}")
    # The direct child's own peak, exact even after its last sample (ru_maxrss, KiB).
    peaks[process.pid] = max(peaks.get(process.pid, 0), usage.ru_maxrss)
    return sum(peaks.values()) / 1024


if __name__ == "__main__":
    ensure()
    print(f"CDK ready: {PYTHON} and {CDK_CLI}")
