"""The LocalStack fixture never lets CI pass silently: no server means failed tests, unless the
run explicitly opts out with SECURESTORE_SKIP_LOCALSTACK=1.

Each case runs one integration test in a nested pytest with a broken setup (a virtualenv path
that does not exist and no usable Python 3.13), so no server is started here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONE_TEST = "tests/localstack/test_presigned_s3.py::test_expired_url_is_refused"


def run_nested(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != "SECURESTORE_SKIP_LOCALSTACK"}
    env.update(SECURESTORE_LOCALSTACK_VENV=str(tmp_path / "no-venv"),
               SECURESTORE_LOCALSTACK_PYTHON=str(tmp_path / "no-python3.13"), **extra_env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_unavailable_localstack_fails_the_run_with_the_reason(tmp_path):
    result = run_nested(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "LocalStack could not be installed" in result.stdout
    assert "no Python 3.13 interpreter" in result.stdout
    assert "1 error" in result.stdout


def test_explicit_opt_out_skips(tmp_path):
    result = run_nested(tmp_path, SECURESTORE_SKIP_LOCALSTACK="1")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
