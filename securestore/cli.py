"""The ``securestore`` command: one entry point, one sub-command module per concern.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
sub-parsers and sets ``handler=`` on each. Registration must stay cheap: a module imports
its heavy dependencies (pulumi, boto3) inside the handler, so that ``securestore key`` does
not pay for loading Pulumi. Handlers return the process exit code.

Exit statuses (the documented set; a test feeds random argv to every sub-command and fails on
anything else or on a traceback):

* 0   done (also when the reader of stdout went away early: ``... --json | head -1``);
* 1   the operation failed (AWS said no, a transfer failed, the stack has violations);
* 2   bad input: one line on stderr naming the flag and what to do (``UsageError``);
* 75  temporary failure, worth retrying (``EX_TEMPFAIL``; the transfer engine decides);
* 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn, Optional, Sequence

from .version import version as _version

COMMAND_MODULES: tuple[str, ...] = (
    "securestore.offline.command",
    "securestore.transfer.cli",
    "securestore.client_cli",
    "securestore.objects_cli",
    "securestore.env_cli",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TEMPFAIL = 75
EXIT_INTERRUPTED = 130
EXIT_STATUSES = frozenset({EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TEMPFAIL, EXIT_INTERRUPTED})


class UsageError(ValueError):
    """Input the user can fix; printed without a traceback, exit status 2."""


class CommandFailed(RuntimeError):
    """The command could not do its job for a reason outside the input (AWS refused, the
    network failed); printed as one line, exit status 1."""


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


def _aws_error_line(exc: BaseException) -> Optional[tuple[int, str]]:
    """(exit status, one line) for botocore's errors, or None when ``exc`` is not one."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - botocore is a dependency
        return None
    if isinstance(exc, bx.ProfileNotFound):
        return EXIT_USAGE, f"--profile: {exc} (see `aws configure list-profiles`)"
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return EXIT_USAGE, (f"{exc}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or "
                            "--profile, or run on an instance role")
    if isinstance(exc, bx.NoRegionError):
        return EXIT_USAGE, "a region is required: pass --region, set AWS_REGION, or set region in the profile"
    if isinstance(exc, bx.EndpointConnectionError):
        return EXIT_FAILED, f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}: check --endpoint-url / the network"
    if isinstance(exc, bx.ClientError):
        from securestore.transfer.errors import describe_error

        operation = getattr(exc, "operation_name", "request")
        return EXIT_FAILED, f"{operation} failed: {describe_error(exc)}"
    if isinstance(exc, bx.BotoCoreError):
        return EXIT_FAILED, str(exc)
    return None


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
        known = _aws_error_line(exc)
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


if __name__ == "__main__":  # pragma: no cover
    entry()
