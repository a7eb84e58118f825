"""Errors a transfer ends with; each message says what failed and what state S3 is left in.

Three outcomes, three exit statuses in the CLI:

* ``TransferError`` (exit 1): a permanent cause (access denied, no such bucket, a checksum
  mismatch, the source changed). A multipart upload was aborted, or the message says why not.
* ``TemporaryTransferError`` (exit 75, ``EX_TEMPFAIL``): retries ran out on a transient cause
  (network, 5xx, throttling). Nothing was thrown away: the multipart upload and its journal
  are kept, and running the same upload with ``--resume`` continues it.
* ``UploadInterrupted`` (exit 130): Ctrl-C or SIGTERM; ``kept`` says whether the upload is still
  open (and resumable) or was aborted. It is a ``KeyboardInterrupt``, so code that lets
  Ctrl-C through keeps doing so.
"""

from __future__ import annotations

from typing import Optional


class TransferError(Exception):
    """A transfer failed for good (after retries); the message says what was left behind."""


class ChecksumMismatchError(TransferError):
    """The checksum S3 stored (or the bytes received) differ from what we computed."""


class FileChangedError(TransferError):
    """The local file changed (size, modification or change time) while it was being uploaded."""


class PendingUpload:
    """Where an unfinished multipart upload is, and the journal that can continue it."""

    def __init__(self, bucket: str, key: str, upload_id: Optional[str], state_path: Optional[str],
                 parts_done: int = 0) -> None:
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.state_path = state_path
        self.parts_done = parts_done


class TemporaryTransferError(TransferError):
    """Retries ran out on a transient cause; the upload (if any) and its journal are kept."""

    exit_status = 75

    def __init__(self, message: str, pending: Optional[PendingUpload] = None) -> None:
        super().__init__(message)
        self.pending = pending


class JournalBusyError(TransferError):
    """Another process holds the journal of the same file, bucket and key."""


class UploadPendingError(ValueError):
    """An unfinished upload of this file to this key exists and ``resume`` was not asked for."""

    def __init__(self, message: str, pending: PendingUpload) -> None:
        super().__init__(message)
        self.pending = pending


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C/SIGTERM ended an upload; ``kept`` tells whether the multipart upload is still open."""

    def __init__(self, message: str, *, kept: bool, pending: Optional[PendingUpload] = None) -> None:
        super().__init__(message)
        self.message = message
        self.kept = kept
        self.pending = pending


def describe_error(error: BaseException) -> str:
    """``Code: message`` for an S3 error response, ``Type: text`` for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        message = response.get("Error", {}).get("Message", "")
        return f"{code or 'HTTP ' + str(status)}: {message or error}"
    return f"{type(error).__name__}: {error}"


def error_code(error: BaseException) -> str:
    """The S3 error code of a ``ClientError`` (``""`` for anything else)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
