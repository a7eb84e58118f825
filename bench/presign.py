"""Pre-signed PUT URLs per second: our SigV4 signer against boto3's ``generate_presigned_url``.

Both sign the same PUT (content type + SSE-KMS headers, session-token credentials; the bucket
key header is not signed: S3 Bucket Keys are the bucket's default, ``s3presign.py``) on a reused
client / signer, at the same frozen instant, and URLs of each are compared byte for byte before
timing (a fast signer that signs something else would be worthless). botocore is pinned to its
Python SigV4 signers: with awscrt installed it would pick the CRT ones, whose clock the patch
does not freeze (ARCHITECTURE.md). The last line is the figure:
``presign PUT: ours X µs/URL, boto3 Y µs/URL, Z.Zx``.

``--quick`` compares every one of the 64 URLs (not just the first) and times a few hundred, for
CI: a mismatch exits 1.

Run with the project's interpreter (it imports securestore): ``.venv/bin/python bench/presign.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
from botocore.config import Config  # noqa: E402

from securestore.s3presign import S3Presigner  # noqa: E402
from securestore._sigv4 import SigningCredentials  # noqa: E402

REGION = "eu-central-1"
BUCKET = "securestore-bench-bucket"
KMS_KEY_ID = "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"
ACCESS_KEY = "ASIAEXAMPLEEXAMPLE01"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/" + "T" * 700 + "=="
FROZEN = dt.datetime(2026, 5, 4, 12, 30, 0, tzinfo=dt.timezone.utc)
EXPIRES_IN = 900
# botocore's pure-Python SigV4 (it picks awscrt's signers whenever awscrt is importable)
PYTHON_SIGNERS = {"v4": botocore.auth.SigV4Auth, "v4-query": botocore.auth.SigV4QueryAuth,
                  "s3v4": botocore.auth.S3SigV4Auth, "s3v4-query": botocore.auth.S3SigV4QueryAuth}


def best_of(fn, rounds: int, repeats: int) -> float:
    """Best mean seconds per call over ``repeats`` rounds (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="check every URL, time few (CI)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats = 300, 1

    client = boto3.client(
        "s3", region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"},
                      request_checksum_calculation="when_required"),
    )
    ours = S3Presigner(
        bucket=BUCKET, region_name=REGION, kms_key_id=KMS_KEY_ID,
        credentials=SigningCredentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), clock=lambda: FROZEN,
    )
    SIZE = 184_320  # the stated body size both sign (issue 22: a pre-signed PUT binds it)
    filenames = [f"purchase order {i:05d} (Zürich).pdf" for i in range(64)]
    counter = {"i": 0}

    def sign_ours() -> str:
        counter["i"] = (counter["i"] + 1) % len(filenames)
        return ours.presign_put("T001", "uploads", filenames[counter["i"]], content_type="application/pdf",
                                content_length=SIZE).url

    def sign_boto3() -> str:
        counter["i"] = (counter["i"] + 1) % len(filenames)
        return client.generate_presigned_url(
            "put_object",
            Params={"Bucket": BUCKET, "Key": f"T001/uploads/2026/05/04/{filenames[counter['i']]}",
                    "ContentType": "application/pdf", "ServerSideEncryption": "aws:kms",
                    "SSEKMSKeyId": KMS_KEY_ID, "ContentLength": SIZE},
            ExpiresIn=EXPIRES_IN,
        )

    naive = FROZEN.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive), \
            mock.patch("botocore.signers.get_current_datetime", return_value=naive), \
            mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, PYTHON_SIGNERS):
        compared = len(filenames) if args.quick else 1
        for index in range(compared):
            counter["i"] = index
            first_ours = sign_ours()
            counter["i"] = index
            first_boto3 = sign_boto3()
            if first_ours != first_boto3:
                print(f"MISMATCH\nours:  {first_ours}\nboto3: {first_boto3}", file=sys.stderr)
                return 1
        for _ in range(200):  # warm both
            sign_ours()
            sign_boto3()
        t_ours = best_of(sign_ours, args.rounds, args.repeats)
        t_boto3 = best_of(sign_boto3, max(args.rounds // 5, 100), args.repeats)
    print(f"identical URLs: {compared} of {compared} ({len(first_ours)} chars each)")
    print(f"presign PUT: ours {t_ours * 1e6:.1f} µs/URL, boto3 {t_boto3 * 1e6:.1f} µs/URL, {t_boto3 / t_ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
