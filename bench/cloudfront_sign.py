"""CloudFront signed URLs: µs per URL, ours against botocore's ``CloudFrontSigner``.

Both sign the same canned-policy URLs with the same freshly generated 2048-bit RSA key (no key
file is read or committed) and their first URLs are compared byte for byte before timing.
botocore is measured twice: with an ``rsa_signer`` that reuses a loaded key (the fair
comparison) and with one that parses the PEM on every call, as the example in botocore's
docstring does. RSA dominates, so "ours" wins by loading the key once, not by a faster RSA.
Last line: ``cloudfront sign URL: ours X µs/URL, botocore Y µs/URL (key reused), Z µs/URL (PEM per call), R.Rx``.

Run with the project's interpreter (it imports securestore): ``.venv/bin/python bench/cloudfront_sign.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.signers import CloudFrontSigner as BotocoreCloudFrontSigner  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

from securestore.cloudfront import CloudFrontSigner  # noqa: E402

DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)
EXPIRES_AT = NOW + dt.timedelta(minutes=15)


def per_call(fn, rounds: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(rounds):
            fn(i)
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="compare all 64 URLs, time few (CI)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats = 30, 1

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    ours = CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN, clock=lambda: NOW)
    reused = BotocoreCloudFrontSigner(KEY_PAIR_ID, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))

    def pem_per_call(message: bytes) -> bytes:
        loaded = serialization.load_pem_private_key(pem, password=None)
        return loaded.sign(message, padding.PKCS1v15(), hashes.SHA1())

    per_call_signer = BotocoreCloudFrontSigner(KEY_PAIR_ID, pem_per_call)
    urls = [f"https://{DOMAIN}/T001/drawings/2026/05/04/part-{i:04d}.pdf" for i in range(64)]

    def sign_ours(i: int) -> str:
        return ours.signed_url(urls[i % 64], expires_at=EXPIRES_AT)

    def sign_reused(i: int) -> str:
        return reused.generate_presigned_url(urls[i % 64], date_less_than=EXPIRES_AT)

    def sign_per_call(i: int) -> str:
        return per_call_signer.generate_presigned_url(urls[i % 64], date_less_than=EXPIRES_AT)

    compared = len(urls) if args.quick else 1
    for i in range(compared):
        # the PEM-per-call signer is the same RSA over the same bytes, and slow: checked on a few
        if sign_ours(i) != sign_reused(i) or (i < 4 and sign_ours(i) != sign_per_call(i)):
            print(f"MISMATCH between our URL and botocore's for {urls[i]}", file=sys.stderr)
            return 1
    # Interleave the two close contenders so that a burst of load on this shared machine hits
    # both alike; keep each one's best round.
    t_ours = t_reused = float("inf")
    for _ in range(args.repeats):
        t_ours = min(t_ours, per_call(sign_ours, args.rounds, 1))
        t_reused = min(t_reused, per_call(sign_reused, args.rounds, 1))
    t_per_call = per_call(sign_per_call, max(args.rounds // 10, 3 if args.quick else 10), 1)
    cookies_start = time.perf_counter()
    ours.tenant_cookies("T001", expires_in=3600)
    t_cookie = time.perf_counter() - cookies_start
    print(f"identical URLs: {compared} of {compared}")
    print(f"tenant prefix cookies (one signature for every file of the session): {t_cookie * 1e6:.0f} µs")
    print(f"cloudfront sign URL: ours {t_ours * 1e6:.0f} µs/URL, botocore {t_reused * 1e6:.0f} µs/URL (key reused), "
          f"{t_per_call * 1e6:.0f} µs/URL (PEM per call), {t_reused / t_ours:.1f}x vs reused, {t_per_call / t_ours:.1f}x vs per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
