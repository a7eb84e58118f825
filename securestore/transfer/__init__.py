"""Fast, resilient S3 transfers: checksummed parallel multipart uploads and ranged downloads.

Public API (inject your boto3 S3 client; ``make_s3_client`` builds the tuned one)::

    upload_file(client, path, bucket, key, *, config=None, sse_kms_key_id=None,
                content_type=None, metadata=None, progress=None, state_path=None) -> UploadResult
    download_file(client, bucket, key, dest, *, config=None, version_id=None,
                  progress=None, verify=True) -> DownloadResult
    make_s3_client(session=None, *, region_name, endpoint_url=None, concurrency=4)
    TransferConfig(part_size=8 * MiB, concurrency=4, multipart_threshold=8 * MiB,
                   checksum_algorithm="crc32c", max_attempts=5, ...)

Names are loaded on first use (PEP 562), so that ``securestore --help``, whose command modules
(``securestore.cli``) import ``securestore.transfer.config`` to declare their flags, does not pay
for botocore.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "make_s3_client": "clients", "transfer_client_config": "clients",
    "KiB": "config", "MiB": "config", "GiB": "config", "MIN_PART_SIZE": "config",
    "MAX_PARTS": "config", "TransferConfig": "config", "parse_size": "config", "plan_parts": "config",
    "DownloadResult": "download", "download_file": "download",
    "ChecksumMismatchError": "errors", "FileChangedError": "errors", "TransferError": "errors",
    "default_state_path": "resume",
    "UploadResult": "upload", "upload_file": "upload",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
