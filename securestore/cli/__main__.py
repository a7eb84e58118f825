"""``python -m securestore.cli``: the same command as the ``securestore`` console script."""

from securestore.cli import entry

entry()
