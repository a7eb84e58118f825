"""The browser fixture never lets CI pass silently: no Chromium means failed tests that say how
to install it, unless the run opts out explicitly with SECURESTORE_SKIP_BROWSER=1.

The fixture's check runs here in-process on a PATH without chromium/chromedriver (it comes
before LocalStack is started, so a machine without Chromium fails fast).
"""

from __future__ import annotations

import pytest
from browser_app import find_chromium


def test_missing_chromium_fails_with_how_to_install_it(tmp_path):
    """Promise: on a machine without Chromium the browser tests FAIL, naming the apt-get command.
    Attack class: a CI run that goes green without its browser witness."""
    with pytest.raises(pytest.fail.Exception, match=r"chromium and chromedriver not found.*"
                                                     r"apt-get install -y chromium chromium-driver"):
        find_chromium({"PATH": str(tmp_path)})


def test_explicit_opt_out_skips(tmp_path):
    with pytest.raises(pytest.skip.Exception, match="SECURESTORE_SKIP_BROWSER=1"):
        find_chromium({"PATH": str(tmp_path), "SECURESTORE_SKIP_BROWSER": "1"})
