"""Hypothesis runs under the profile conftest loads: fast by default, thorough in CI.

The hypothesis pytest plugin is off (pyproject.toml), so a profile registered but never loaded
would silently leave hypothesis's defaults; these tests see the loaded one from inside a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from support.hypothesis_profiles import CI, FAST, PROFILE_ENV, examples, profile_name

ROOT = Path(__file__).resolve().parents[1]
CALLS: list[int] = []


@given(st.integers())
def _property(value: int) -> None:
    CALLS.append(value)


def test_the_loaded_profile_drives_given_tests():
    """A @given test without its own settings runs the loaded profile's number of examples."""
    expected = settings.get_profile(profile_name()).max_examples
    assert settings.default.max_examples == expected
    CALLS.clear()
    _property()
    assert len(CALLS) == expected, (len(CALLS), expected)


def test_no_profile_has_a_deadline():
    """The flaky transfer test of issue 21: a 200 ms per-example deadline against full garbage
    collections of 0.12-0.32 s in a session holding the stack graphs (see the profiles module)."""
    assert settings.default.deadline is None
    assert all(settings.get_profile(name).deadline is None for name in (FAST, CI))


def test_examples_scale_with_the_profile():
    assert examples(5_000) == (5_000 if profile_name() == CI else 250)
    assert examples(60) == (60 if profile_name() == CI else 25)


def test_ci_selects_the_thorough_profile_in_a_fresh_session():
    """What .ci/run does: the env var makes conftest load the CI profile."""
    code = ("import sys; sys.path.insert(0, 'tests'); import conftest; from hypothesis import settings; "
            "print(settings.default.max_examples)")
    for name in (FAST, CI):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, PROFILE_ENV: name}, timeout=120)
        assert out.returncode == 0, out.stderr
        assert int(out.stdout.split()[-1]) == settings.get_profile(name).max_examples
