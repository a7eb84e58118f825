"""Errors a transfer ends with; each message says what failed and what state S3 is left in."""

from __future__ import annotations


class TransferError(Exception):
    """A transfer failed for good (after retries); nothing partial is left behind."""


class ChecksumMismatchError(TransferError):
    """The checksum S3 stored (or the bytes received) differ from what we computed."""


class FileChangedError(TransferError):
    """The local file changed size while it was being uploaded."""


def describe_error(error: BaseException) -> str:
    """``Code: message`` for an S3 error response, ``Type: text`` for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        message = response.get("Error", {}).get("Message", "")
        return f"{code or 'HTTP ' + str(status)}: {message or error}"
    return f"{type(error).__name__}: {error}"
