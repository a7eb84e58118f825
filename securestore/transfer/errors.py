"""Errors a transfer ends with; each says what failed and which outcome it left.

Every upload and download ends in exactly one outcome, named by ``outcome`` on the result or
the error, and stated in its message with the facts (upload id, journal, version):

* ``stored-and-verified`` (``STORED``): the object is in S3 and its checksum was compared
  (``verified=False`` on the result says the whole-object checksum could not be re-read; each
  part's was checked by S3). Also reached when the last answer (Complete's) was lost: the
  upload is then checked with ListParts and HeadObject before anything is reported.
* ``not-stored-and-cleaned`` (``NOT_STORED``): nothing new is in S3 and nothing was left behind
  (the multipart upload was aborted, or never created; a download's temporary file removed).
* ``kept-for-resume`` (``KEPT``): an unfinished multipart upload and its journal are kept; the
  message names both and ``--resume`` continues it (or ``securestore uploads abort`` ends it).

And the exit statuses of the command line, one per cause:

* 0: stored and verified. 1 (``TransferError``): a permanent cause (access denied, bad
  credentials, a clock the server refuses, no such bucket, a checksum mismatch, the source
  changed, an endpoint that never answered). 2: bad input (a flag, a state file that belongs to
  another upload). 75 (``TemporaryTransferError``, ``EX_TEMPFAIL``): retries ran out on a
  transient cause; the upload is kept and ``--resume`` continues it. 130 (``UploadInterrupted``,
  a ``KeyboardInterrupt``): Ctrl-C or SIGTERM; the message says the outcome.
"""

from __future__ import annotations

from typing import Optional


STORED = "stored-and-verified"
NOT_STORED = "not-stored-and-cleaned"
KEPT = "kept-for-resume"
OUTCOMES = (STORED, NOT_STORED, KEPT)


class TransferError(Exception):
    """A transfer failed for good (after retries); the message says what was left behind."""

    outcome = NOT_STORED
    """One of ``OUTCOMES``: what this failure left in S3 (set per instance when it differs)."""


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
    outcome = KEPT

    def __init__(self, message: str, pending: Optional[PendingUpload] = None) -> None:
        super().__init__(message)
        self.pending = pending


class EndpointUnreachableError(TransferError):
    """The endpoint never answered (any HTTP status) within the first-answer budget."""


class JournalBusyError(TransferError):
    """Another process holds the journal of the same file, bucket and key."""


class StateFileConflictError(ValueError):
    """The state file given belongs to another upload (another file or key): it is refused,
    never taken over, so that the other upload is neither aborted nor forgotten."""


class UploadPendingError(ValueError):
    """An unfinished upload of this file to this key exists and ``resume`` was not asked for."""

    def __init__(self, message: str, pending: PendingUpload) -> None:
        super().__init__(message)
        self.pending = pending


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C/SIGTERM ended an upload; ``kept`` tells whether the multipart upload is still open."""

    def __init__(self, message: str, *, kept: bool, pending: Optional[PendingUpload] = None,
                 outcome: Optional[str] = None, result: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.kept = kept
        self.pending = pending
        self.outcome = outcome or (KEPT if kept else NOT_STORED)
        self.result = result
        """The ``UploadResult`` when the object was stored before the interrupt took effect."""


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
