"""The runtime library works without the tooling; the tooling says what is missing.

Issue 21: a backend that installs only the client (no ``infra`` extra) must be able to import
keys, signing, STS and transfers, and ``securestore preview`` there must end with one line
naming the extra (exit 2), not a ``ModuleNotFoundError`` traceback. "Not installed" is made
real by a meta-path finder that refuses every Pulumi module (and PyYAML) in a fresh
interpreter, so the test does not depend on what this virtualenv happens to hold.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME_MODULES = (
    "securestore", "securestore.keys", "securestore.s3presign", "securestore.cloudfront", "securestore.sts",
    "securestore.s3multipart", "securestore.kms_key", "securestore.transfer", "securestore.transfer.upload",
    "securestore.transfer.download", "securestore.transfer.stream", "securestore.transfer.batch",
    "securestore.transfer.clients",
)

BLOCKER = textwrap.dedent("""
    import sys

    class _NotInstalled:
        '''Every module of the infra extra is missing, as after `pip install securestore-aws`.'''
        BLOCKED = {"pulumi", "pulumi_aws", "pulumi_policy", "yaml"}

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
""")


def _python(code: str, *, block: bool, argv: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    source = (BLOCKER if block else "") + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", source, *argv], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


@pytest.mark.parametrize("block", [False, True], ids=["infra-installed", "infra-missing"])
def test_the_runtime_library_imports_no_pulumi(block):
    """Importing every runtime module loads no pulumi module, with or without the extra."""
    result = _python(f"""
        import importlib, sys
        for name in {RUNTIME_MODULES!r}:
            importlib.import_module(name)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi", "pulumi_aws", "pulumi_policy"))
        assert not loaded, loaded
    """, block=block)
    assert result.returncode == 0, result.stderr


def test_the_command_line_builds_without_the_infra_extra():
    """`securestore --help` and every command's parser work on a library-only install."""
    result = _python("""
        from securestore.cli import build_parser
        build_parser()
    """, block=True)
    assert result.returncode == 0, result.stderr


def test_preview_without_the_infra_extra_exits_2_naming_it():
    """One line naming the extra and the pip command, exit 2, no traceback."""
    result = _python("""
        import runpy, sys
        sys.argv = ["securestore", "preview", "--stack", "dev"]
        runpy.run_module("securestore.cli", run_name="__main__")
    """, block=True)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "infra extra" in lines[0] and "pip install 'securestore-aws[infra]'" in lines[0], lines[0]
    assert "pulumi" in lines[0]


def test_the_provider_without_the_infra_extra_names_it():
    """The component provider refuses with the same sentence before touching Pulumi."""
    result = _python("""
        from securestore.infra import MissingInfraExtra
        from securestore.provider import main
        try:
            main()
        except MissingInfraExtra as exc:
            print(exc)
    """, block=True)
    assert result.returncode == 0, result.stderr
    assert "pip install 'securestore-aws[infra]'" in result.stdout
