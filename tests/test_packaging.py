"""Packaging: light runtime dependencies, Pulumi's requirements match the infra extra."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in requirements}


def test_base_dependencies_are_only_what_the_client_needs():
    """boto3 + cryptography for signing; crc32c and awscrt (CRC64NVME) for the transfer
    client (the progress bar is our own, transfer/bar.py). No Pulumi."""
    assert _names(PYPROJECT["project"]["dependencies"]) == {"boto3", "cryptography", "crc32c", "awscrt"}


def test_pulumi_requirements_match_the_infra_extra():
    """Pulumi's python runtime installs requirements.txt: same pins as `pip install .[infra]`."""
    lines = [
        line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "-e ." in lines, "the component plugin needs this project installed in its virtualenv"
    lines.remove("-e .")
    assert sorted(lines) == sorted(PYPROJECT["project"]["optional-dependencies"]["infra"])


def test_names_are_securestore_everywhere():
    """Package, command and Pulumi project share one name; the distribution is securestore-aws
    (plain "securestore" on PyPI is someone else's: tests/test_install_name.py)."""
    assert PYPROJECT["project"]["name"] == "securestore-aws"
    assert PYPROJECT["project"]["scripts"] == {"securestore": "securestore.cli:entry"}
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "securestore"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"]


def test_cli_help_lists_commands_without_loading_pulumi():
    """`securestore --help` stays fast: registering commands imports neither pulumi nor boto3."""
    code = (
        "import sys\nfrom securestore.cli import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('pulumi', 'pulumi_aws', 'boto3') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_package_and_component_file_is_in_the_distribution():
    """Promise: `pip install securestore-aws[infra]` ships every module and every data file the
    components read (a package left out of the explicit list, or a .js file without a
    package-data glob, would import in this checkout and fail only after installation)."""
    import fnmatch

    setuptools = PYPROJECT["tool"]["setuptools"]
    packages = set(setuptools["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "securestore").rglob("__init__.py")
    }
    assert found | {"securestore.components"} == packages
    assert setuptools["package-dir"] == {"securestore.components": "components"}
    globs = setuptools.get("package-data", {}).get("securestore.components", [])
    components = ROOT / "components"
    for path in components.rglob("*"):
        relative = path.relative_to(components).as_posix()
        if path.is_dir() or "__pycache__" in relative or (path.suffix == ".py" and "/" not in relative):
            continue
        assert any(fnmatch.fnmatch(relative, g) for g in globs), f"components/{relative} is not packaged"
    assert (components / "__init__.py").is_file()
