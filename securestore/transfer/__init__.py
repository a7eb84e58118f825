"""Fast, resilient S3 transfers: checksummed parallel multipart uploads and ranged downloads.

Public API (inject your boto3 S3 client; ``make_s3_client`` builds the tuned one)::

    upload_file(client, path, bucket, key, *, config=None, sse_kms_key_id=None,
                content_type=None, metadata=None, progress=None, state_path=None) -> UploadResult
    download_file(client, bucket, key, dest, *, config=None, version_id=None,
                  progress=None) -> DownloadResult
"""

from .clients import make_s3_client, transfer_client_config
from .config import KiB, MiB, GiB, MIN_PART_SIZE, MAX_PARTS, TransferConfig, parse_size, plan_parts
from .download import DownloadResult, download_file
from .errors import ChecksumMismatchError, FileChangedError, TransferError
from .resume import default_state_path
from .upload import UploadResult, upload_file

__all__ = [
    "ChecksumMismatchError", "DownloadResult", "FileChangedError", "GiB", "KiB", "MAX_PARTS",
    "MIN_PART_SIZE", "MiB", "TransferConfig", "TransferError", "UploadResult",
    "default_state_path", "download_file", "make_s3_client", "parse_size", "plan_parts",
    "transfer_client_config", "upload_file",
]
