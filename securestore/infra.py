"""Whether the ``infra`` extra is installed: the one check the tooling makes before it needs Pulumi.

The base distribution is the runtime library (keys, signing, STS, transfers) and depends only on
boto3 and cryptography. The tooling (the offline engine behind ``securestore preview``, the
policy runner, the component provider) needs the ``infra`` extra; it imports Pulumi only when
it runs, and calls ``require_infra`` first, so that a backend that installed the library alone
gets one line naming the extra instead of a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib.util

from .version import DISTRIBUTION

#: import name -> the requirement of the infra extra that provides it (pyproject.toml)
INFRA_MODULES: dict[str, str] = {
    "pulumi": "pulumi",
    "pulumi_aws": "pulumi-aws",
    "pulumi_policy": "pulumi-policy",
    "yaml": "pyyaml",
}
INSTALL_HINT = f"pip install '{DISTRIBUTION}[infra]'"


class MissingInfraExtra(ImportError):
    """The infra extra (Pulumi, its AWS provider, pulumi-policy, PyYAML) is not installed."""


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a blocked or broken module counts as missing
        return False


def require_infra(what: str) -> None:
    """Raise ``MissingInfraExtra`` naming ``what`` needs it and the command that installs it."""
    missing = [requirement for module, requirement in INFRA_MODULES.items() if not _importable(module)]
    if missing:
        raise MissingInfraExtra(f"{what} needs the infra extra (missing: {', '.join(missing)}): {INSTALL_HINT}")
