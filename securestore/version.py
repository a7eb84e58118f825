"""The one place the package version is read: the installed distribution's metadata.

``pyproject.toml`` is the only place the number is written. ``securestore --version``, the
component provider (and so the schema and SDKs ``pulumi package add`` generates) and
``securestore.__version__`` all call ``version()``, so they cannot disagree.
"""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "securestore"
UNINSTALLED = "0+unknown"
"""Reported when running from a checkout that was never installed (no metadata to read)."""


def version() -> str:
    """The installed ``securestore`` distribution's version."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNINSTALLED
