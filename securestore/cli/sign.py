"""``securestore key``, ``presign put|post|get``, ``sign-url`` and ``sign-cookies``: tenant keys
and the URLs and cookies signed for them.

Registration only declares parsers (no boto3 or cryptography import), so ``securestore key``
starts fast. Defaults come from the environment so that a backend's settings can be reused:
``SECURESTORE_BUCKET``, ``SECURESTORE_KMS_KEY_ID``, ``SECURESTORE_S3_ENDPOINT_URL``,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``SECURESTORE_CF_DOMAIN``, ``SECURESTORE_CF_KEY_PAIR_ID``,
``SECURESTORE_CF_PRIVATE_KEY`` (PEM content or a path). ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import os
import base64
import hashlib
from typing import Optional

from . import options, settings
from .errors import UsageError

_READ_CHUNK = 1024 * 1024


def _require(value: Optional[str], flag: str, env: str) -> str:
    if not value:
        raise UsageError(f"{flag} is required (or set {env})")
    return value


# ------------------------------------------------------------------ key
def _handle_key(args: argparse.Namespace) -> int:
    from securestore.keys import build_tenant_key

    allowed = set(args.allowed_modules.split(",")) if args.allowed_modules else None
    key = build_tenant_key(args.tenant, args.module, args.filename, args.date, allowed_modules=allowed)
    return options.emit(args, {"key": key.key, "tenant_id": key.tenant_id, "module": key.module,
                        "date": key.date.isoformat(), "filename": key.filename}, [key.key])


# ------------------------------------------------------------------ presign
def _presigner(args: argparse.Namespace, *, upload: bool):
    """The presigner every ``presign`` action uses: bucket, region, endpoint and credentials
    resolved like every other command (``securestore.cli.settings``); a KMS key only for
    uploads (a GET URL needs none)."""
    from securestore.s3presign import S3Presigner

    bucket = settings.bucket(args.bucket)
    kms_key_id = settings.kms_key_id(args.kms_key_id) if upload else None
    if upload and not kms_key_id:
        raise UsageError("--kms-key-id is required to sign an upload (or set SECURESTORE_KMS_KEY_ID; "
                         "`securestore env` writes it from the stack output kmsKeyArn)")
    session = settings.base_session(args.profile)
    region = settings.region(args.region, session)
    credentials = session.get_credentials()
    if credentials is None:
        raise UsageError("no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                         "AWS_PROFILE or --profile, or run on an instance role")
    try:
        return S3Presigner(bucket=bucket, region_name=region, kms_key_id=kms_key_id,
                           credentials=credentials, endpoint_url=settings.s3_endpoint(args.endpoint_url))
    except ValueError as exc:  # name the flag, not the Python parameter
        text = str(exc)
        for parameter, flag in (("bucket", "--bucket"), ("region_name", "--region"), ("kms_key_id", "--kms-key-id")):
            if text.startswith(parameter + " "):
                text = flag + text[len(parameter):]
        raise UsageError(text) from None


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise UsageError(f"--file {path!r}: cannot read it ({exc.strerror})") from None
    return base64.b64encode(digest.digest()).decode("ascii")


def _handle_presign_put(args: argparse.Namespace) -> int:
    if args.checksum_sha256 and args.file:
        raise UsageError("give --checksum-sha256 or --file, not both")
    checksum = args.checksum_sha256 or (_file_sha256(args.file) if args.file else None)
    presigner = _presigner(args, upload=True)
    size = args.content_length
    if size is None:
        if not args.file:
            raise UsageError("give --content-length (the body's exact size) or --file: the URL is signed for one size")
        size = os.path.getsize(args.file)
    put = presigner.presign_put(args.tenant, args.module, args.filename, content_type=args.content_type,
                                       content_length=size, date=args.date, checksum_sha256=checksum,
                                       expires_in=args.expires_in)
    return options.emit(args, put.as_dict(), [put.url, *(f"{k}: {v}" for k, v in put.headers.items())])


def _handle_presign_post(args: argparse.Namespace) -> int:
    post = _presigner(args, upload=True).presign_post(args.tenant, args.module, args.filename, content_type=args.content_type,
                                         max_bytes=args.max_bytes, min_bytes=args.min_bytes, date=args.date,
                                         expires_in=args.expires_in)
    return options.emit(args, post.as_dict(), [post.url, *(f"{k}={v}" for k, v in post.fields.items())])


def _handle_presign_get(args: argparse.Namespace) -> int:
    get = _presigner(args, upload=False).presign_get(args.tenant, args.key, download_name=args.download_name,
                                       disposition="inline" if args.inline else "attachment",
                                       expires_in=args.expires_in)
    return options.emit(args, get.as_dict(), [get.url])


# ------------------------------------------------------------------ CloudFront
def _cloudfront_signer(args: argparse.Namespace):
    from securestore.cloudfront import CloudFrontSigner, read_private_key_source

    source = _require(args.private_key, "--private-key", "SECURESTORE_CF_PRIVATE_KEY")
    # PEM content (the container pattern) or a path; never echoed (securestore.cloudfront)
    pem = read_private_key_source(source, "--private-key / SECURESTORE_CF_PRIVATE_KEY")
    return CloudFrontSigner(
        key_pair_id=_require(args.key_pair_id, "--key-pair-id", "SECURESTORE_CF_KEY_PAIR_ID"),
        private_key=pem,
        domain=_require(args.domain, "--domain", "SECURESTORE_CF_DOMAIN"),
        hash_algorithm=args.hash_algorithm,
        distribution_ipv6=args.distribution_ipv6 != "off",
    )


def _handle_sign_url(args: argparse.Namespace) -> int:
    url = _cloudfront_signer(args).tenant_url(args.tenant, args.key, expires_in=args.expires_in,
                                              starts_at=args.starts_at, ip_range=args.ip_range)
    return options.emit(args, {"url": url, "key": args.key, "tenant_id": args.tenant}, [url])


def _handle_sign_cookies(args: argparse.Namespace) -> int:
    signed = _cloudfront_signer(args).tenant_cookies(args.tenant, expires_in=args.expires_in,
                                                     starts_at=args.starts_at, ip_range=args.ip_range,
                                                     cookie_domain=args.cookie_domain)
    return options.emit(args, signed.as_dict(), [f"Set-Cookie: {h}" for h in signed.set_cookie_headers()])


# ------------------------------------------------------------------ parsers
def _add_s3_options(parser: argparse.ArgumentParser, *, upload: bool) -> None:
    options.BUCKET.add(parser, help="bucket (default: $SECURESTORE_BUCKET, from the stack output bucketName)")
    if upload:
        options.KMS_KEY_ID.add(parser, help="KMS key id or ARN the upload is encrypted with "
                               "(default: $SECURESTORE_KMS_KEY_ID, from the stack output kmsKeyArn)")
    else:
        parser.set_defaults(kms_key_id=None)
    options.add_aws(parser, role=False)
    options.EXPIRES_IN.add(parser, help="lifetime of the URL in seconds (default 900, at most 7 days; never "
                           "beyond the signing credentials' expiry)")
    options.JSON.add(parser, help="print one JSON object on stdout")


def _add_upload_target(parser: argparse.ArgumentParser) -> None:
    options.TENANT_ARG.add(parser)
    parser.add_argument("module", metavar="MODULE", help="module under the tenant, e.g. uploads")
    parser.add_argument("filename", metavar="FILENAME", help="the object's file name (last part of the key)")
    options.CONTENT_TYPE.add(parser, required=True, help="Content-Type signed into the upload "
                             "(the browser must send exactly this)")
    options.DATE.add(parser)


def _add_cloudfront_options(parser: argparse.ArgumentParser, default_expiry: int) -> None:
    parser.add_argument("--domain", default=settings.from_env(("SECURESTORE_CF_DOMAIN",)),
                        help="distribution domain (default: $SECURESTORE_CF_DOMAIN, from the stack output "
                        "distributionDomainName)")
    parser.add_argument("--key-pair-id", default=settings.from_env(("SECURESTORE_CF_KEY_PAIR_ID",)),
                        help="CloudFront public key id (default: $SECURESTORE_CF_KEY_PAIR_ID, from the stack "
                        "output cloudfrontPublicKeyId)")
    parser.add_argument("--private-key", default=settings.from_env(("SECURESTORE_CF_PRIVATE_KEY",)),
                        help="the signer's RSA-2048 private key: PEM content or a path to it, never echoed "
                        "(default: $SECURESTORE_CF_PRIVATE_KEY)")
    parser.add_argument("--hash-algorithm", choices=("SHA1", "SHA256"), default="SHA1",
                        help="signature hash (default SHA1; SHA256 adds Hash-Algorithm=SHA256)")
    options.EXPIRES_IN.add(parser, default=default_expiry, help=f"lifetime in seconds (default {default_expiry})")
    parser.add_argument("--starts-at", type=options.aware_datetime, default=None,
                        help="not valid before this ISO 8601 time, e.g. 2026-05-04T12:00Z")
    parser.add_argument("--ip-range", default=None, help="viewer IP or CIDR the signature is limited to "
                        "(only with --distribution-ipv6 off)")
    parser.add_argument("--distribution-ipv6", choices=("on", "off"),
                        default=settings.from_env(("SECURESTORE_CF_IPV6",)) or "on",
                        help="whether the distribution serves IPv6 (stack config cloudfrontIpv6Enabled; default on, "
                        "$SECURESTORE_CF_IPV6): IP-restricted signatures are refused while it does")
    options.JSON.add(parser, help="print one JSON object on stdout")


def register(subparsers: argparse._SubParsersAction) -> None:
    key = subparsers.add_parser("key", help="build a tenant object key",
                                description="Print tenant_id/module/yyyy/mm/dd/filename, or exit 2 with the reason.")
    options.TENANT_ARG.add(key, help="tenant id (1-63 of A-Za-z0-9_-; not 'public')")
    key.add_argument("module", metavar="MODULE", help="module (1-63 of a-z0-9_-)")
    key.add_argument("filename", metavar="FILENAME", help="file name (no '/', '\\' or control characters)")
    options.DATE.add(key, help="YYYY-MM-DD (default: today, UTC)")
    key.add_argument("--allowed-modules", default=None, help="comma-separated modules this deployment allows")
    options.JSON.add(key, help="print one JSON object on stdout")
    key.set_defaults(handler=_handle_key)

    presign = subparsers.add_parser("presign", help="pre-signed S3 upload/download URLs",
                                    description="Sign S3 URLs locally (no AWS call) for one tenant key.")
    actions = presign.add_subparsers(dest="presign_action", metavar="ACTION", required=True)
    put = actions.add_parser("put", help="pre-signed PUT with SSE-KMS and content type signed in")
    _add_upload_target(put)
    put.add_argument("--checksum-sha256", default=None, help="base64 SHA-256 S3 will enforce")
    put.add_argument("--file", default=None, help="compute --checksum-sha256 (and --content-length) from this file")
    put.add_argument("--content-length", type=options.size, default=None, metavar="SIZE",
                     help="exact body size the URL is signed for (S3 refuses any other); default: --file's size")
    _add_s3_options(put, upload=True)
    put.set_defaults(handler=_handle_presign_put)
    post = actions.add_parser("post", help="browser POST form with size range and content type")
    _add_upload_target(post)
    post.add_argument("--max-bytes", type=options.size, required=True, metavar="SIZE",
                      help="largest upload S3 accepts, e.g. 10MiB or 10485760")
    post.add_argument("--min-bytes", type=options.size, default=0, metavar="SIZE", help="smallest upload (default 0)")
    _add_s3_options(post, upload=True)
    post.set_defaults(handler=_handle_presign_post)
    get = actions.add_parser("get", help="pre-signed GET of one of the tenant's keys (no KMS key needed)")
    options.TENANT_ARG.add(get, help="tenant id the key must belong to")
    get.add_argument("key", metavar="KEY", help="the object key (TENANT/module/yyyy/mm/dd/name)")
    get.add_argument("--download-name", default=None, help="file name the browser saves as (default: the key's)")
    get.add_argument("--inline", action="store_true", help="Content-Disposition inline instead of attachment")
    _add_s3_options(get, upload=False)
    get.set_defaults(handler=_handle_presign_get)

    sign_url = subparsers.add_parser("sign-url", help="CloudFront signed URL for one tenant key")
    options.TENANT_ARG.add(sign_url, help="tenant id the key must belong to")
    sign_url.add_argument("key", metavar="KEY", help="the object key (TENANT/...)")
    _add_cloudfront_options(sign_url, 15 * 60)
    sign_url.set_defaults(handler=_handle_sign_url)

    cookies = subparsers.add_parser("sign-cookies", help="CloudFront signed cookies for a tenant's whole prefix")
    options.TENANT_ARG.add(cookies, help="tenant id: the cookies cover TENANT/*")
    cookies.add_argument("--cookie-domain", default=None, help="Domain attribute of the cookies, e.g. .example.com")
    _add_cloudfront_options(cookies, 60 * 60)
    cookies.set_defaults(handler=_handle_sign_cookies)
