"""Every bench has a quick mode that CI runs (issue 21: bench/presign.py had silently rotted
into MISMATCH). Static checks only: the quick modes themselves run in .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELPERS = {"cdk_env", "transfer_common"}  # modules the benches import, not benches


def _benches() -> set[str]:
    return {path.stem for path in (ROOT / "bench").glob("*.py")
            if '__name__ == "__main__"' in path.read_text() and path.stem not in HELPERS}


def test_every_bench_has_a_quick_mode():
    missing = sorted(name for name in _benches() if "--quick" not in (ROOT / "bench" / f"{name}.py").read_text()
                     and "--quick" not in (ROOT / "bench" / "transfer_common.py").read_text())
    assert not missing, f"benches without --quick: {missing}"
    # the transfer benches take --quick from transfer_common.transfer_parser: each must call apply_quick
    for name in ("upload", "download", "upload_ceiling", "upload_breakdown"):
        assert "apply_quick(args)" in (ROOT / "bench" / f"{name}.py").read_text(), name


def test_ci_runs_every_quick_mode():
    run = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"for bench in ([^;]+);", run)
    assert match, ".ci/run has no quick-bench loop"
    listed = set(match.group(1).replace("\\", " ").split())
    assert listed == _benches(), (sorted(_benches() - listed), sorted(listed - _benches()))
