"""The README stays true: its two commands are what CI runs, and it lists every config key."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()


def bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_first_two_commands_are_setup_and_tests():
    setup, tests = bash_blocks(README)[:2]
    assert "pip install -e '.[infra,test]'" in setup and "securestore preview --stack dev" in setup
    assert tests == ".venv/bin/python -m pytest -q"


def test_ci_runs_the_readme_commands():
    """.ci/run performs the README's set-up steps and its exact test command."""
    setup, tests = bash_blocks(README)[:2]
    for step in setup.split(" && "):
        step = step.replace(".venv/bin/python -m pip install", ".venv/bin/python -m pip install --quiet")
        assert step in CI, f".ci/run lacks README step {step!r}"
    assert tests in CI.splitlines()


def test_every_config_key_is_documented():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    missing = [key for key in declared if f"| `{key}` |" not in README]
    assert missing == []
