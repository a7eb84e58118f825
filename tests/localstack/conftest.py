"""A LocalStack server for the integration tests: created, started and stopped here.

LocalStack is the witness for the security properties of pre-signed URLs (moto accepts
tampered and expired URLs and ignores POST policy conditions, so it cannot be). Two ways:

1. ``LOCALSTACK_ENDPOINT=http://localhost:4566``: a LocalStack you run yourself (Docker, as
   most users do: ``docker run -p 4566:4566 -e S3_SKIP_SIGNATURE_VALIDATION=0
   localstack/localstack``); it is used as is, never started or stopped here.
2. Otherwise ``localstack-core`` runs without Docker in its own virtualenv under
   ``<repo>/.venv-localstack`` (git-ignored, created on first use and reused), made from any
   Python >= 3.13 found on ``PATH`` (``python3.13``, ``python3.14``, ``python3``) or among
   pyenv's versions (``pyenv root``), as a child process on a free port.

If LocalStack cannot be installed or started, every test here FAILS with the reason and the
tail of the server log; silently skipping would let CI go green without the proof. For a quick
local run, ``SECURESTORE_SKIP_LOCALSTACK=1`` skips them explicitly (``-m "not localstack"``
deselects them too).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Override with SECURESTORE_LOCALSTACK_VENV (e.g. to time a cold install elsewhere).
VENV = Path(os.environ.get("SECURESTORE_LOCALSTACK_VENV") or REPO / ".venv-localstack")
STATE_DIR = REPO / ".localstack"  # git-ignored: server log
LOG_FILE = STATE_DIR / "server.log"
PACKAGES = ("localstack-core[runtime]", "cbor2<6", "pyopenssl<24.3")
#: Written after a successful install; a different package list forces a reinstall.
READY_STAMP = VENV / ".securestore-packages"
PYTHON_NAMES = ("python3.13", "python3.14", "python3.15", "python3")
MINIMUM_PYTHON = (3, 13)
ENDPOINT_ENV = "LOCALSTACK_ENDPOINT"
HOW_TO_GET_ONE = (f"either run LocalStack yourself (e.g. `docker run -p 4566:4566 -e S3_SKIP_SIGNATURE_VALIDATION=0 "
                  f"localstack/localstack`) and set {ENDPOINT_ENV}=http://localhost:4566, or install Python >= 3.13 "
                  "on PATH or with pyenv (`pyenv install 3.13`) so the tests can start localstack-core themselves")
SERVICES = ("s3", "kms", "sts")
INSTALL_TIMEOUT_SECONDS = 15 * 60
STARTUP_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 5  # state is throw-away: SIGKILL after this
HEALTH_POLL_SECONDS = 0.2
SKIP_ENV = "SECURESTORE_SKIP_LOCALSTACK"
REGION = "eu-central-1"


#: Filled by the fixture and shown at the end of the run (the startup figure the README quotes).
TIMINGS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the time spent in the tests of this directory (setup, call and teardown)."""
    if report.nodeid.startswith("tests/localstack/"):
        TIMINGS["tests"] = TIMINGS.get("tests", 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if "startup" in TIMINGS:
        terminalreporter.write_line(
            "LocalStack: venv install {install:.1f}s, server startup {startup:.1f}s, "
            "localstack tests {tests:.1f}s in all (install, startup and stop included), server stop {stop:.1f}s".format(**TIMINGS))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "localstack: integration test against a LocalStack server started by a fixture")


@dataclasses.dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    region: str
    install_seconds: float
    startup_seconds: float


def _pyenv_pythons() -> list[str]:
    """``<pyenv root>/versions/*/bin/python``, newest first (``pyenv root``, else $PYENV_ROOT, else ~/.pyenv)."""
    root = None
    if shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = None
    root = root or os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = Path(root) / "versions"
    if not versions.is_dir():
        return []

    def version_key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) if part.isdigit() else -1 for part in path.name.split("."))

    return [str(v / "bin" / "python") for v in sorted(versions.iterdir(), key=version_key, reverse=True)]


def _is_new_enough(python: str) -> bool:
    try:
        result = subprocess.run([python, "-c", f"import sys; sys.exit(sys.version_info < {MINIMUM_PYTHON!r})"],
                                capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0  # a pyenv shim for a version not selected exits non-zero too


def _python_313() -> str:
    """A Python >= 3.13 for localstack-core: $SECURESTORE_LOCALSTACK_PYTHON, PATH, then pyenv."""
    override = os.environ.get("SECURESTORE_LOCALSTACK_PYTHON")
    if override:
        candidates = [override]
    else:
        candidates = [found for name in PYTHON_NAMES if (found := shutil.which(name))] + _pyenv_pythons()
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and _is_new_enough(candidate):
            return candidate
    tried = ", ".join(candidates) or "nothing found"
    raise RuntimeError(f"no Python >= 3.13 interpreter for localstack-core (tried: {tried}); {HOW_TO_GET_ONE}")


def ensure_localstack_venv() -> float:
    """Create ``.venv-localstack`` with localstack-core if it is missing; return seconds spent.

    A file lock serialises concurrent test sessions (two engineers, or xdist workers) so that
    they do not pip-install into the same virtualenv at once.
    """
    wanted = "\n".join(PACKAGES)
    if READY_STAMP.exists() and READY_STAMP.read_text() == wanted:
        return 0.0
    started = time.monotonic()
    STATE_DIR.mkdir(exist_ok=True)
    with (STATE_DIR / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (READY_STAMP.exists() and READY_STAMP.read_text() == wanted):
                _install(wanted)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return time.monotonic() - started


def _install(wanted: str) -> None:
    install_log = STATE_DIR / "install.log"
    with install_log.open("w") as log:
        if not (VENV / "bin" / "python").exists():
            subprocess.run([_python_313(), "-m", "venv", str(VENV)], check=True, stdout=log, stderr=subprocess.STDOUT,
                           timeout=INSTALL_TIMEOUT_SECONDS)
        result = subprocess.run(
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES],
            stdout=log, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_SECONDS,
        )
    if result.returncode != 0:
        tail = install_log.read_text()[-2000:]
        raise RuntimeError(f"pip install {' '.join(PACKAGES)} failed (exit {result.returncode}):\n{tail}")
    READY_STAMP.write_text(wanted)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_localstack/health", timeout=2) as response:
            services = json.load(response).get("services", {})
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return all(services.get(name) in ("available", "running") for name in SERVICES)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server we started: its own process group, SIGTERM first, SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _log_tail() -> str:
    try:
        return LOG_FILE.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def _external(endpoint_url: str):
    """A LocalStack the user runs (``LOCALSTACK_ENDPOINT``): checked healthy, never stopped here."""
    endpoint_url = endpoint_url.rstrip("/")
    deadline = time.monotonic() + 10
    while not _healthy(endpoint_url):
        if time.monotonic() > deadline:
            pytest.fail(f"{ENDPOINT_ENV}={endpoint_url} does not answer /_localstack/health with "
                        f"{', '.join(SERVICES)} available; start LocalStack there or unset {ENDPOINT_ENV}",
                        pytrace=False)
        time.sleep(HEALTH_POLL_SECONDS)
    return LocalStack(endpoint_url, REGION, 0.0, 0.0)


@pytest.fixture(scope="session")
def localstack():
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"LocalStack integration tests skipped on request ({SKIP_ENV}=1)")
    if os.environ.get(ENDPOINT_ENV):
        yield _external(os.environ[ENDPOINT_ENV])
        return
    try:
        install_seconds = ensure_localstack_venv()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"LocalStack could not be installed, so the presigned-URL security tests cannot run: {exc}",
                    pytrace=False)
    port = _free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "SERVICES": ",".join(SERVICES),
        "EAGER_SERVICE_LOADING": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",
    }
    STATE_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    with LOG_FILE.open("w") as log:
        process = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "localstack.runtime.main"],
                                   cwd=STATE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = started + STARTUP_TIMEOUT_SECONDS
        while not _healthy(endpoint_url):
            if process.poll() is not None:
                pytest.fail(f"LocalStack exited with status {process.returncode} during startup; "
                            f"log {LOG_FILE}:\n{_log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"LocalStack did not report {', '.join(SERVICES)} healthy within "
                            f"{STARTUP_TIMEOUT_SECONDS}s; log {LOG_FILE}:\n{_log_tail()}", pytrace=False)
            time.sleep(HEALTH_POLL_SECONDS)
        startup_seconds = time.monotonic() - started
        TIMINGS.update(install=install_seconds, startup=startup_seconds)
        yield LocalStack(endpoint_url, REGION, install_seconds, startup_seconds)
    finally:
        stopping = time.monotonic()
        _stop(process)
        TIMINGS["stop"] = time.monotonic() - stopping
