"""The command line's one error vocabulary: exit statuses, the two exceptions handlers raise, and
the mapping of AWS errors to one line.

Exit statuses (the documented set; a test feeds random argv to every sub-command and fails on
anything else or on a traceback):

* 0   done (also when the reader of stdout went away early: ``... --json | head -1``);
* 1   the operation failed (AWS said no, a transfer failed, the stack has violations);
* 2   bad input: one line on stderr naming the flag and what to do (``UsageError``);
* 75  temporary failure, worth retrying (``EX_TEMPFAIL``; the transfer engine decides);
* 130 interrupted.

Nothing here imports botocore at module level: ``securestore key`` must not load it.
"""

from __future__ import annotations

from typing import Optional

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


def aws_error_line(exc: BaseException) -> Optional[tuple[int, str]]:
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


def aws_failure(error: BaseException, bucket: str, what: str) -> CommandFailed:
    """One line for an S3 call on ``bucket`` that failed: a missing bucket named as such (with
    the flag that chose it), anything else as ``what: <AWS code and message>``."""
    from securestore.transfer.errors import describe_error

    code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
    if code == "NoSuchBucket":
        return CommandFailed(f"bucket {bucket!r} does not exist (check --bucket / SECURESTORE_BUCKET)")
    return CommandFailed(f"{what}: {describe_error(error)}")


class TerminateAsInterrupt:
    """Turn SIGTERM into KeyboardInterrupt while a transfer runs, so it aborts cleanly too."""

    def __enter__(self):
        import signal

        try:
            self._previous = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt()

    def __exit__(self, *exc):
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
