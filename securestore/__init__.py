"""securestore: the runtime and tooling side of secure multi-tenant file storage on AWS.

The base package depends only on boto3 and cryptography, so that a backend can import the
client without pulling in Pulumi. The Pulumi program lives at the project root
(``__main__.py`` and ``components/``); ``securestore.offline`` evaluates it without the CLI.
"""



def __getattr__(name: str):
    """``securestore.__version__``, read from the installed metadata (``securestore.version``;
    written only in pyproject.toml) when first asked for, not at every import."""
    if name == "__version__":
        from .version import version

        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
