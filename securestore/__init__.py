"""securestore: the runtime library of secure multi-tenant file storage on AWS, and its tools.

* the library, what a backend imports (boto3, cryptography, crc32c, awscrt; never Pulumi, a test
  checks in a fresh interpreter): ``keys``, ``s3presign``, ``cloudfront``, ``sts``,
  ``s3multipart``, ``transfer``;
* the command line, ``securestore.cli`` (argparse only; it drives the library and never the other
  way round);
* the tooling, which needs the ``infra`` extra and imports Pulumi only when it runs (``infra``
  names the extra when it is missing): ``offline`` (the engine behind ``securestore preview``)
  and ``provider`` (the component package for other languages).

The Pulumi program lives at the project root (``__main__.py`` and ``components/``).
"""



def __getattr__(name: str):
    """``securestore.__version__``, read from the installed metadata (``securestore.version``;
    written only in pyproject.toml) when first asked for, not at every import."""
    if name == "__version__":
        from .version import version

        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
