"""The S3 client configuration transfers are fastest and safest with.

Callers may inject any boto3 S3 client; this one is what the CLI builds and what the benchmark
measures. Why each setting:

* ``max_pool_connections`` ≥ concurrency: otherwise workers queue for a socket.
* ``retries`` off (one attempt): the transfer retries each part itself (``retry.py``), from the
  part's own buffer; two retry layers would multiply attempts and hide failures.
* ``request_checksum_calculation='when_required'``: the transfer computes one checksum per part
  (CRC32C by default) and sends it; botocore would otherwise compute a second (CRC32) pass.
* ``connect_timeout`` 10 s: a blackholed network costs 10 s per try, not 60, so the retry
  budget (``--retry-for``) gets many tries in an outage; ``read_timeout`` stays 60 s, and part
  bodies go out in blocks so that it measures progress (``upload.BlockBody``).
* ``payload_signing_enabled=False``: SigV4 then signs ``UNSIGNED-PAYLOAD`` instead of hashing
  every body with SHA-256. Over HTTPS botocore already does this whenever a checksum header is
  present; we do it over plain HTTP too (local endpoints), where the signed
  ``x-amz-checksum-*`` header still binds the body's integrity.
"""

from __future__ import annotations

from typing import Any, Optional

from .config import DEFAULT_CONCURRENCY

POOL_HEADROOM = 4
CONNECT_TIMEOUT_SECONDS = 10


def transfer_client_config(concurrency: int = DEFAULT_CONCURRENCY):
    from botocore.config import Config

    return Config(
        signature_version="s3v4",
        max_pool_connections=max(10, concurrency + POOL_HEADROOM),
        retries={"total_max_attempts": 1, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"payload_signing_enabled": False},
        tcp_keepalive=True,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def make_s3_client(
    session: Any = None,
    *,
    region_name: str,
    endpoint_url: Optional[str] = None,
    concurrency: int = DEFAULT_CONCURRENCY,
):
    """An S3 client for transfers from ``session`` (a ``boto3.Session``; a default one if omitted)."""
    if not region_name:
        raise ValueError("a region is required (--region, AWS_REGION or AWS_DEFAULT_REGION)")
    if session is None:
        import boto3

        session = boto3.session.Session()
    return session.client(
        "s3",
        region_name=region_name,
        endpoint_url=endpoint_url,
        config=transfer_client_config(concurrency),
    )
