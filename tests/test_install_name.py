"""Every install instruction names our distribution, never the unrelated PyPI package.

Class of attack: dependency confusion. ``securestore`` on PyPI belongs to an unrelated secrets
library; an instruction or requirements file that asks pip for ``securestore`` installs that
package (its code runs at install or import time) instead of ours. Our distribution is
``securestore-aws`` (checked absent from PyPI with ``pip index versions`` when it was chosen);
the import package and the command stay ``securestore``.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from securestore.version import DISTRIBUTION

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = "securestore"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(text: str) -> str | None:
    """The project a requirement names (``pkg[extra]>=1 ; marker`` -> ``pkg``), or None for a
    path, URL or option."""
    text = text.strip().strip("'\"")
    if not text or text.startswith(("-", ".", "/", "~", "<")) or "://" in text.split("@")[0]:
        return None
    match = _NAME.match(text)
    return _normalised(match.group(1)) if match else None


def requirements_in_file(text: str) -> list[str]:
    """Project names a requirements file asks for (comments, options, paths skipped)."""
    names = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("#"):
            continue
        name = _requirement_name(line)
        if name:
            names.append(name)
    return names


def requirements_in_commands(text: str) -> list[str]:
    """Project names in every ``pip install ...`` command written in ``text``."""
    names = []
    for match in re.finditer(r"pip3? install([^\n`#&|;]*)", text):
        try:
            words = shlex.split(match.group(1))
        except ValueError:
            words = match.group(1).split()
        skip_next = False
        for word in words:
            if skip_next:
                skip_next = False
                continue
            if word in ("-r", "-c", "--requirement", "--constraint", "-e", "--editable", "-i",
                        "--index-url", "--extra-index-url", "-f", "--find-links"):
                skip_next = word not in ("-e", "--editable")  # -e takes a path we skip below
                continue
            name = _requirement_name(word)
            if name:
                names.append(name)
    return names


def _instruction_files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / ".ci" / "run"]
    for pattern in ("**/*requirements*.txt", "**/*.md", "bench/*.py", "examples/**/*.py", "**/Dockerfile*"):
        found += [path for path in ROOT.glob(pattern)
                  if not any(part.startswith(".venv") or part in ("node_modules", ".git") for part in path.parts)]
    return sorted({path for path in found if path.is_file()})


def test_the_distribution_is_not_the_unrelated_pypi_name():
    """pyproject's name is ours, and the version is read from that same distribution."""
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert _normalised(name) != FORBIDDEN
    assert name == DISTRIBUTION


@pytest.mark.parametrize("path", _instruction_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_instruction_asks_pip_for_the_unrelated_package(path):
    """No requirements file line and no ``pip install`` command names bare ``securestore``."""
    text = path.read_text(encoding="utf-8", errors="replace")
    names = requirements_in_commands(text)
    if path.name.endswith(".txt") and "requirements" in path.name:
        names += requirements_in_file(text)
    assert FORBIDDEN not in names, f"{path.relative_to(ROOT)} asks pip for {FORBIDDEN!r}; use {DISTRIBUTION!r}"


@pytest.mark.parametrize("text, reader", [
    ("pip install 'securestore[infra]'", requirements_in_commands),
    ("python -m pip install -q securestore", requirements_in_commands),
    ("pip install -U securestore==0.1.2 boto3", requirements_in_commands),
    ("securestore[infra]\n", requirements_in_file),
    ("pulumi>=3\nSecureStore >= 0.1 ; python_version > '3'\n", requirements_in_file),
])
def test_the_reader_sees_the_forbidden_name_in_each_form(text, reader):
    """The check above can fail: every way of asking pip for the package is read as such."""
    assert FORBIDDEN in reader(text)


@pytest.mark.parametrize("text, reader", [
    ("pip install -e '.[infra,test]'", requirements_in_commands),
    ("pip install 'securestore-aws[infra]'", requirements_in_commands),
    ("-e ../..[infra]\n# securestore is not this\n", requirements_in_file),
])
def test_our_own_forms_are_not_flagged(text, reader):
    assert FORBIDDEN not in reader(text)
