"""Every shell and Python example in the README runs as shown.

Each ```bash / ```python block is extracted and run, in README order, in one working directory
(as a user following the README would), against a local S3 (moto's server: it stores bytes,
it is the witness of no security property). The README walks from nothing: the one step done
here is the one its prose asks for before the first block (start a local S3 and export
`AWS_ENDPOINT_URL`, test credentials and `AWS_REGION`), plus the virtualenv's `bin/` on PATH
(`. .venv/bin/activate`). The README's own blocks then create the bucket and the KMS key, write
the stack outputs, make the signer's key pair and `securestore.env`; every later block runs in a
shell that has sourced `securestore.env`, as the README says (the examples build on each
other: run the file, not one example). A line labelled `exit N` in a comment is also run alone
and must exit N (issue 21: the `key` example labelled "exit 2" exited 0).

A Python example whose first line is `# A Pulumi program` is a program, not a script: it is
evaluated as `pulumi preview` would run it, by the offline engine (`securestore preview`) with
this repository's policy pack, in a minimal project of its own.

An example that cannot run here says why in the README itself, on the line before it:
`<!-- example: needs ... -->` (the Pulumi CLI, a deployed stack, AWS's IAM enforcement); it is
reported as skipped under its name with that reason, never silently dropped. Class of
failure: documentation that drifts from the code (a renamed flag, a variable a command no
longer reads, a missing import) and leaves a new user with a traceback on their first try.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BLOCK = re.compile(r"(?:<!-- example: (?P<why>[^\n]*?) -->\n)?```(?P<lang>bash|sh|shell|python)\n(?P<body>.*?)```",
                   re.S)
HEADING = re.compile(r"^#{1,4} (.+)$", re.M)
TIMEOUT_SECONDS = 180
PULUMI_PROGRAM = "# A Pulumi program"
"""First line of a Python example that is a Pulumi program (run under the offline engine)."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def examples() -> list[tuple[str, str, str, str]]:
    """(name, language, body, skip reason or "") for every example, in README order."""
    found = []
    counts: dict[str, int] = {}
    headings = [(m.start(), m.group(1)) for m in HEADING.finditer(README)]
    for match in BLOCK.finditer(README):
        heading = [title for start, title in headings if start < match.start()][-1]
        section = _slug(heading)
        counts[section] = counts.get(section, 0) + 1
        name = f"{section}-{counts[section]}"
        found.append((name, match.group("lang"), match.group("body"), match.group("why") or ""))
    return found


EXAMPLES = examples()


def test_the_readme_has_runnable_examples():
    """The extraction finds the client examples (a regex that matched nothing would pass everything)."""
    runnable = [name for name, _, _, why in EXAMPLES if not why]
    assert len(runnable) >= 4, runnable
    assert all(why.startswith(("needs", "run by")) for _, _, _, why in EXAMPLES if why)


SETTINGS_FILE = "securestore.env"
SOURCE_SETTINGS = f"if [ -f {SETTINGS_FILE} ]; then . ./{SETTINGS_FILE}; fi\n"
"""What the README asks of the reader's shell after its set-up block (`. ./securestore.env`)."""


def _sourced(env: dict, work: Path) -> dict:
    """``env`` as a shell that sourced ``securestore.env`` has it (for the Python examples)."""
    if not (work / SETTINGS_FILE).is_file():
        return env
    done = subprocess.run(["bash", "-c", f"{SOURCE_SETTINGS}env -0"], cwd=work, env=env, capture_output=True,
                          timeout=30, check=True)
    return dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory):
    """The environment the README tells a user to set, against a moto S3 server."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    root = tmp_path_factory.mktemp("readme")
    home = root / "home"
    home.mkdir()
    region = "eu-central-1"
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    # the README's prose step before its first block: a local S3, and the SDK pointed at it
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(home), "LANG": "C.UTF-8", "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region,
           "AWS_CONFIG_FILE": str(home / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
           "VIRTUAL_ENV": str(Path(sys.executable).parent.parent), **credentials}
    work = root / "work"
    work.mkdir()
    try:
        yield env, work
    finally:
        server.stop()


@pytest.mark.parametrize(("name", "language", "body", "why"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_readme_example_runs_as_shown(readme_env, name, language, body, why):
    if why:
        pytest.skip(f"README example {name}: {why}")
    env, work = readme_env
    env = _sourced(env, work)
    cwd = work
    if language == "python" and body.startswith(PULUMI_PROGRAM):
        # Not a script: it runs where a Pulumi program runs, here the offline engine (mocked
        # provider, no AWS), with this repository's policy pack, in a minimal project of its own.
        cwd = work / name
        cwd.mkdir()
        (cwd / "__main__.py").write_text(body)
        (cwd / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (cwd / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
        command = [sys.executable, "-m", "securestore.cli", "preview", "--project-dir", str(cwd), "--stack", "dev",
                   "--policy-pack", str(REPO / "policies")]
    elif language == "python":
        command = [sys.executable, "-c", body]
    else:
        command = ["bash", "-euo", "pipefail", "-c", SOURCE_SETTINGS + body]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, f"README example {name} failed (exit {result.returncode}):\n{body}\n" \
                                   f"--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr


LABELLED = re.compile(r"^(?P<command>securestore [^#\n]*?)(?:\s*\|\|[^#\n]*)?\s+#[^\n]*\bexit (?P<status>\d+)\b", re.M)
LABELLED_LINES = [(name, m.group("command").strip(), int(m.group("status")))
                  for name, language, body, why in EXAMPLES if language == "bash" and not why
                  for m in LABELLED.finditer(body)]


def test_the_readme_labels_at_least_one_exit_status():
    assert any(status == 2 for _, _, status in LABELLED_LINES), LABELLED_LINES


@pytest.mark.parametrize(("name", "command", "status"), LABELLED_LINES, ids=[f"{n}:{c[:40]}" for n, c, _ in LABELLED_LINES])
def test_a_line_labelled_exit_n_exits_n(readme_env, name, command, status):
    """`securestore key T001 uploads "../po.pdf"  # ... exit 2` really exits 2, with one line on
    stderr and no traceback (the README showed exit 2 on a command that exited 0)."""
    env, work = readme_env
    result = subprocess.run(["bash", "-c", SOURCE_SETTINGS + command], cwd=work, env=_sourced(env, work),
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == status, (command, result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    if status == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
