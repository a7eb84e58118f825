"""The ``securestore`` command: one entry point, one sub-command module per concern.

The package is the command line and nothing else; the library it drives (keys, signing, STS,
transfers) lives in ``securestore`` and ``securestore.transfer`` and never imports this.

* ``errors``   exit statuses, ``UsageError``/``CommandFailed``, AWS errors as one line;
* ``options``  the one table of shared arguments (``--bucket``, ``--tenant``, ``--json``, ...);
* ``settings`` the one reader of flags, environment and profile (bucket, region, endpoint, role);
* one module per command group (``COMMAND_MODULES``), each exposing ``register(subparsers)``,
  which adds its sub-parsers and sets ``handler=`` on each.

Registration must stay cheap: a command module imports its heavy dependencies (pulumi, boto3)
inside the handler, so that ``securestore key`` does not pay for loading Pulumi. Handlers return
the process exit code (see ``errors`` for the documented set). Command modules import ``errors``,
``options`` and ``settings``, never this module nor each other: the import graph has no cycle
(tests/cli/test_cli_package.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn, Optional, Sequence

from ..version import version as _version
from .errors import (  # noqa: F401 - the exit statuses and exceptions, re-exported for callers
    EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_STATUSES, EXIT_TEMPFAIL, EXIT_USAGE, CommandFailed, UsageError,
    aws_error_line,
)

COMMAND_MODULES: tuple[str, ...] = (
    "securestore.cli.preview",
    "securestore.cli.transfer",
    "securestore.cli.sync",
    "securestore.cli.uploads",
    "securestore.cli.sign",
    "securestore.cli.assume",
    "securestore.cli.objects",
    "securestore.cli.env",
    "securestore.cli.tenant",
)


def package_version() -> str:
    """The version ``--version`` prints: the package's one version function."""
    return _version()


class Parser(argparse.ArgumentParser):
    """argparse with the house rules: no abbreviated flags (``--buck`` is not ``--bucket``:
    a prefix that works today breaks silently when a flag is added), and a usage error is one
    line naming the flag, then exit 2 (argparse prints its whole usage block first)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="securestore",
        description="Secure multi-tenant file storage on AWS: preview the stack offline, "
        "build tenant keys, sign URLs, upload, download, list and remove tenant files.",
        epilog="Exit status: 0 done, 1 failed, 2 bad input, 75 temporary failure (retry), "
        "130 interrupted.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                       parser_class=Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: reads the version only when asked (argparse's own ``version`` action needs
    the string when the parser is built, i.e. an ``importlib.metadata`` lookup on every command)."""

    def __init__(self, option_strings, dest, help=None):  # noqa: A002 - argparse's name
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {package_version()}")  # stdout, as argparse's own version action
        parser.exit()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    name = f"securestore {args.command}"
    try:
        return int(args.handler(args) or 0)
    except (UsageError, ValueError) as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandFailed as exc:
        print(f"{name}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as exc:  # botocore's errors only; anything else is a bug and keeps its traceback
        known = aws_error_line(exc)
        if known is None:
            raise
        status, line = known
        print(f"{name}: {'error' if status == EXIT_USAGE else 'failed'}: {line}", file=sys.stderr)
        return status


def _run_quietly_on_broken_pipe() -> int:
    """``main()``, treating a reader that closed stdout early as success (``| head -1``).

    Python's own recipe: point stdout at /dev/null so the interpreter's final flush does not
    raise a second time.
    """
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def entry() -> None:
    """Console-script entry point.

    After an offline preview the interpreter holds pulumi_aws's module graph, whose teardown
    at exit takes about 0.7 s, longer than evaluating a small stack. Output is flushed and
    nothing is left to clean up (no files open, no uploads in flight: transfer commands never
    load pulumi_aws), so the process ends without that teardown.
    """
    code = _run_quietly_on_broken_pipe()
    if "pulumi_aws" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
