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
    env = {name: value for name, value in os.environ.items()
           if name not in ("SECURESTORE_SKIP_LOCALSTACK", "LOCALSTACK_ENDPOINT")}
    env.update(SECURESTORE_LOCALSTACK_VENV=str(tmp_path / "no-venv"),
               SECURESTORE_LOCALSTACK_PYTHON=str(tmp_path / "no-python3.13"), **extra_env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_unavailable_localstack_fails_the_run_with_the_reason(tmp_path):
    result = run_nested(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "LocalStack could not be installed" in result.stdout
    assert "no Python >= 3.13 interpreter" in result.stdout
    assert "LOCALSTACK_ENDPOINT=http://localhost:4566" in result.stdout  # names both ways to get one
    assert "1 error" in result.stdout


def test_explicit_opt_out_skips(tmp_path):
    result = run_nested(tmp_path, SECURESTORE_SKIP_LOCALSTACK="1")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout


def test_unreachable_localstack_endpoint_fails_with_its_name(tmp_path):
    """LOCALSTACK_ENDPOINT set but nothing there: the run fails naming the variable, no start attempt."""
    result = run_nested(tmp_path, LOCALSTACK_ENDPOINT="http://127.0.0.1:9")
    assert result.returncode == 1, result.stdout
    assert "LOCALSTACK_ENDPOINT=http://127.0.0.1:9 does not answer" in result.stdout


def _fixture_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("localstack_conftest_copy", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _fake_python(path: Path, new_enough: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nexit {0 if new_enough else 1}\n")
    path.chmod(0o755)
    return path


def test_python_found_on_path_or_in_any_pyenv_root_without_a_hard_coded_path(tmp_path, monkeypatch):
    """Any machine: the interpreter comes from PATH or from $PYENV_ROOT/versions, newest first;
    one too old is passed over (before: one hard-coded /root/.pyenv/versions/3.13.0 path)."""
    conftest = _fixture_module()
    monkeypatch.delenv("SECURESTORE_LOCALSTACK_PYTHON", raising=False)
    bin_dir = tmp_path / "bin"
    _fake_python(bin_dir / "python3", new_enough=False)  # e.g. a distribution's 3.11
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    wanted = _fake_python(tmp_path / "pyenv" / "versions" / "3.13.2" / "bin" / "python", new_enough=True)
    _fake_python(tmp_path / "pyenv" / "versions" / "3.9.18" / "bin" / "python", new_enough=False)
    assert conftest._python_313() == str(wanted)
    _fake_python(bin_dir / "python3.14", new_enough=True)
    assert conftest._python_313() == str(bin_dir / "python3.14")  # PATH first
