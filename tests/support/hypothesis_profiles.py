"""Hypothesis profiles: fast by default, thorough in CI.

``pyproject.toml`` turns hypothesis's pytest plugin off (it imported all of hypothesis at the
end of every run), so nothing would load a profile: ``tests/conftest.py`` calls
``load_profile()`` first thing. The profile comes from ``SECURESTORE_HYPOTHESIS_PROFILE``
(``.ci/run`` sets ``ci``); a developer's run gets ``fast``.

A property that wants many examples in CI writes ``@settings(max_examples=examples(5_000))``:
the number it names is the CI number, and the fast profile runs a twentieth of it (at least
``FAST_MINIMUM``). An explicit ``max_examples`` would override every profile.

Both profiles have no deadline. Hypothesis's default (200 ms per example) made
``test_transfer_config``'s plan property, the one ``@given`` without its own settings, flaky:
by the time it runs, the session holds both stacks' graphs and the policy pack (~150,000
tracked objects), and one full garbage collection, which can land inside any example, takes
0.12-0.32 s on this machine (measured with both graphs loaded, under load). A
``DeadlineExceeded`` on one run and a pass on the next is exactly "failed on the first full run,
passed on the next three" (issue 21).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "SECURESTORE_HYPOTHESIS_PROFILE"
FAST, CI = "fast", "ci"
FAST_SHARE = 20
FAST_MINIMUM = 25

settings.register_profile(FAST, max_examples=50, deadline=None)
settings.register_profile(CI, max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])


def profile_name() -> str:
    name = os.environ.get(PROFILE_ENV) or FAST
    if name not in (FAST, CI):
        raise ValueError(f"{PROFILE_ENV}={name!r}: expected {FAST!r} or {CI!r}")
    return name


def load_profile() -> str:
    name = profile_name()
    settings.load_profile(name)
    return name


def examples(ci: int) -> int:
    """``ci`` examples under the CI profile, a twentieth of it (at least 25) otherwise."""
    return ci if profile_name() == CI else max(ci // FAST_SHARE, FAST_MINIMUM)
