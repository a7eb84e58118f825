"""The ``securestore`` command: one entry point, one sub-command module per concern.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
sub-parsers and sets ``handler=`` on each. Registration must stay cheap: a module imports
its heavy dependencies (pulumi, boto3) inside the handler, so that ``securestore key`` does
not pay for loading Pulumi. Handlers return the process exit code; bad input raises
``UsageError`` (exit 2, reason on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from .version import version as _version

COMMAND_MODULES: tuple[str, ...] = (
    "securestore.offline.command",
    "securestore.transfer.cli",
    "securestore.client_cli",
)


class UsageError(ValueError):
    """Input the user can fix; printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="securestore",
        description="Secure multi-tenant file storage on AWS: preview the stack offline, "
        "build tenant keys, sign URLs, upload and download.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (UsageError, ValueError) as exc:
        print(f"securestore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"securestore {args.command}: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """Console-script entry point.

    After an offline preview the interpreter holds pulumi_aws's module graph, whose teardown
    at exit takes about 0.7 s, longer than evaluating a small stack. Output is flushed and
    nothing is left to clean up (no files open, no uploads in flight: transfer commands never
    load pulumi_aws), so the process ends without that teardown.
    """
    code = main()
    if "pulumi_aws" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
