"""The one place the package version is read: the installed distribution's metadata.

``pyproject.toml`` is the only place the number is written. ``securestore --version``, the
component provider (and so the schema and SDKs ``pulumi package add`` generates) and
``securestore.__version__`` all call ``version()``, so they cannot disagree.
"""

from __future__ import annotations

DISTRIBUTION = "securestore-aws"
"""The distribution's name (pyproject.toml); the import package is ``securestore``."""
UNINSTALLED = "0+unknown"
"""Reported when running from a checkout that was never installed (no metadata to read)."""


def version() -> str:
    """The installed ``securestore-aws`` distribution's version.

    ``importlib.metadata`` is imported here, not at module level: it costs ~20 ms, which every
    ``securestore`` command paid at start-up although only ``--version`` and the provider read it."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNINSTALLED
