"""securestore: the runtime and tooling side of secure multi-tenant file storage on AWS.

The base package depends only on boto3 and cryptography, so that a backend can import the
client without pulling in Pulumi. The Pulumi program lives at the project root
(``__main__.py`` and ``components/``); ``securestore.offline`` evaluates it without the CLI.
"""

from .version import version as _version

__version__ = _version()
"""Read from the installed metadata (``securestore.version``); written only in pyproject.toml."""
