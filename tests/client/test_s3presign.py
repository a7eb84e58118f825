"""Pre-signed S3 URLs: byte-identical to botocore, tenant-bound, SSE-KMS signed in, expiry rules.

The reference is botocore's own ``generate_presigned_url`` / ``generate_presigned_post`` on a
client configured the way a careful caller must configure it (``s3v4``, virtual addressing,
regional us-east-1, ``request_checksum_calculation="when_required"``). Time is frozen for both:
botocore reads ``get_current_datetime`` in ``botocore.auth`` and ``botocore.signers``, we pass
the same instant as ``now``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import string
import warnings
from contextlib import contextmanager
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from securestore._sigv4 import SigningCredentials, SigV4Signer, regional_endpoint
from securestore.keys import build_key, parse_key
from securestore.s3presign import (
    DEFAULT_EXPIRES_SECONDS,
    MAX_EXPIRES_SECONDS,
    MAX_SINGLE_UPLOAD_BYTES,
    ExpiryClampedWarning,
    S3Presigner,
    content_disposition,
)

IDENTITY_CASES = 10_000
BUCKET = "securestore-test-bucket"
KMS_KEY = "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"
NOW = dt.datetime(2026, 5, 4, 12, 30, 0, tzinfo=dt.timezone.utc)
STATIC = SigningCredentials("AKIAEXAMPLEEXAMPLE01", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
REGIONS = ("us-east-1", "eu-central-1", "ap-southeast-2", "sa-east-1", "us-gov-west-1", "cn-north-1")
ENDPOINTS = (None, None, None, "http://127.0.0.1:4566", "http://localhost:8080", "https://s3.internal.example")


class BotocoreClock:
    """The instant botocore's signers see (``get_current_datetime`` returns naive UTC)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.set(moment)

    def set(self, moment: dt.datetime) -> None:
        self.naive = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def __call__(self, *args, **kwargs) -> dt.datetime:
        return self.naive


# botocore swaps in awscrt's signers whenever awscrt is importable (a base dependency since
# CRC64NVME download verification); the reference here is botocore's own Python SigV4, which
# reads the frozen clock.
PYTHON_SIGNERS = {"v4": botocore.auth.SigV4Auth, "v4-query": botocore.auth.SigV4QueryAuth,
                  "s3v4": botocore.auth.S3SigV4Auth, "s3v4-query": botocore.auth.S3SigV4QueryAuth}


@contextmanager
def frozen_botocore(moment: dt.datetime):
    clock = BotocoreClock(moment)
    with mock.patch("botocore.auth.get_current_datetime", clock), \
            mock.patch("botocore.signers.get_current_datetime", clock), \
            mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, PYTHON_SIGNERS):
        yield clock


def reference_client(region: str, endpoint_url: str | None):
    return boto3.client(
        "s3", region_name=region, endpoint_url=endpoint_url,
        aws_access_key_id="AKIAPLACEHOLDER00000", aws_secret_access_key="placeholder",
        config=Config(signature_version="s3v4",
                      s3={"addressing_style": "path" if endpoint_url else "virtual",
                          "us_east_1_regional_endpoint": "regional"},
                      request_checksum_calculation="when_required"),
    )


def use_credentials(client, creds: SigningCredentials) -> None:
    """Swap the client's credentials in place (creating 10,000 clients would take minutes)."""
    client._request_signer._credentials = Credentials(creds.access_key, creds.secret_key, creds.token)


# ---------------------------------------------------------------- random inputs
_B64 = string.ascii_letters + string.digits + "+/"
_KEY_ALPHABET = (string.ascii_letters + string.digits + " !\"#$%&'()*+,-.:;<=>?@[]^_`{|}~"
                 + "éüßøåçñ中文日本語한국어עבריתالعربية😀🚀\u0301\u00a0\u2028")  # no U+FEFF: keys refuse format characters (Cf)


def random_credentials(rng: random.Random) -> SigningCredentials:
    access = rng.choice(("AKIA", "ASIA")) + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
    secret = "".join(rng.choices(_B64, k=40))
    token = None
    if rng.random() < 0.6:
        token = "".join(rng.choices(_B64, k=rng.randint(100, 1200))) + rng.choice(("", "=", "=="))
    return SigningCredentials(access, secret, token)


def random_filename(rng: random.Random) -> str:
    while True:
        name = "".join(rng.choices(_KEY_ALPHABET, k=rng.randint(1, 60)))
        if name not in (".", ".."):
            return name


def random_raw_segment(rng: random.Random) -> str:
    """Raw keys may hold what build_key refuses: empty, '.' and '..' segments too."""
    return rng.choice(("", ".", "..", random_filename(rng), random_filename(rng)))


def random_key(rng: random.Random) -> str:
    """Mostly keys from build_key; some raw keys with slashes and dot segments as well."""
    if rng.random() < 0.8:
        tenant = rng.choice(("T001", "acme-gmbh", "t_9", "X" * 63))
        module = rng.choice(("uploads", "drawings", "purchase-orders", "cv"))
        day = dt.date(rng.randint(2000, 2099), rng.randint(1, 12), rng.randint(1, 28))
        return build_key(tenant, module, random_filename(rng), day)
    return "/".join(random_raw_segment(rng) for _ in range(rng.randint(1, 5))) or "k"


def random_content_type(rng: random.Random) -> str:
    base = rng.choice(("application/pdf", "image/png", "text/csv", "application/vnd.ms-excel",
                       "application/octet-stream", "text/plain"))
    if rng.random() < 0.3:
        base += rng.choice(("; charset=utf-8", ";charset=UTF-8", '; name="po 1.pdf"', "  ;  q=1"))
    return base


def random_put_params(rng: random.Random, key: str) -> tuple[dict, dict]:
    """(botocore put_object Params, the headers our signer signs) for the same request."""
    content_type = random_content_type(rng)
    params = {"Bucket": BUCKET, "Key": key, "ContentType": content_type}
    headers = {"Content-Type": content_type}
    if rng.random() < 0.8:
        kms = rng.choice((KMS_KEY, "alias/securestore", "0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"))
        params.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms)
        headers.update({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": kms})
        if rng.random() < 0.5:
            params["BucketKeyEnabled"] = True
            headers["x-amz-server-side-encryption-bucket-key-enabled"] = "true"
    if rng.random() < 0.4:
        checksum = base64.b64encode(hashlib.sha256(rng.randbytes(16)).digest()).decode()
        params["ChecksumSHA256"] = checksum
        headers["x-amz-checksum-sha256"] = checksum
    return params, headers


def random_get_params(rng: random.Random, key: str) -> tuple[dict, list]:
    params = {"Bucket": BUCKET, "Key": key}
    query = []
    if rng.random() < 0.8:
        disposition = content_disposition(random_filename(rng), rng.choice(("attachment", "inline")))
        params["ResponseContentDisposition"] = disposition
        query.append(("response-content-disposition", disposition))
    if rng.random() < 0.3:
        content_type = random_content_type(rng)
        params["ResponseContentType"] = content_type
        query.append(("response-content-type", content_type))
    return params, query


def test_fast_signer_is_byte_identical_to_botocore_over_10000_random_requests():
    """10,000 random PUT/GET requests (keys, headers, query, credentials with and without
    session tokens, regions incl. us-east-1 and China, virtual and path style, expiries,
    instants): every URL equals botocore's, byte for byte."""
    rng = random.Random(20260504)
    clients = {(r, e): reference_client(r, e) for r in REGIONS for e in set(ENDPOINTS)}
    signers = {r: SigV4Signer(r) for r in REGIONS}
    mismatches = []
    with frozen_botocore(NOW) as botocore_clock:
        for case in range(IDENTITY_CASES):
            compare_one_random_request(rng, clients, signers, botocore_clock, case, mismatches)
    assert not mismatches, f"{len(mismatches)} of {IDENTITY_CASES} differ; first: {mismatches[0]}"


def compare_one_random_request(rng, clients, signers, botocore_clock, case, mismatches):
    """Sign one random PUT or GET both ways; record it if the URLs differ."""
    region, endpoint_url = rng.choice(REGIONS), rng.choice(ENDPOINTS)
    client, creds = clients[(region, endpoint_url)], random_credentials(rng)
    use_credentials(client, creds)
    key = random_key(rng)
    expires_in = rng.choice((1, 60, DEFAULT_EXPIRES_SECONDS, rng.randint(1, MAX_EXPIRES_SECONDS), MAX_EXPIRES_SECONDS))
    moment = NOW + dt.timedelta(seconds=rng.randint(-10**9, 10**9) // 1000 * 1000 + rng.randint(0, 999))
    endpoint = regional_endpoint(BUCKET, region, endpoint_url)
    if rng.random() < 0.6:
        params, headers = random_put_params(rng, key)
        botocore_clock.set(moment)
        expected = client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        ours = signers[region].presign_url(creds, "PUT", endpoint, key, expires_in=expires_in, now=moment, headers=headers)
    else:
        params, query = random_get_params(rng, key)
        botocore_clock.set(moment)
        expected = client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        ours = signers[region].presign_url(creds, "GET", endpoint, key, expires_in=expires_in, now=moment, query=query)
    if ours != expected:
        mismatches.append((case, key, ours, expected))




def test_post_policy_is_identical_to_botocore_generate_presigned_post():
    """300 random POST forms: same url and same fields (policy JSON and signature) as botocore."""
    rng = random.Random(7)
    clients = {(r, e): reference_client(r, e) for r in REGIONS for e in set(ENDPOINTS)}
    for _ in range(300):
        region, endpoint_url = rng.choice(REGIONS), rng.choice(ENDPOINTS)
        client, creds = clients[(region, endpoint_url)], random_credentials(rng)
        use_credentials(client, creds)
        key = random_key(rng)
        content_type = random_content_type(rng)
        fields = {"Content-Type": content_type, "x-amz-server-side-encryption": "aws:kms"}
        conditions = [{"Content-Type": content_type}, ["content-length-range", 0, rng.randint(1, 10**9)]]
        expires_in = rng.randint(1, MAX_EXPIRES_SECONDS)
        with frozen_botocore(NOW):
            expected = client.generate_presigned_post(BUCKET, key, Fields=dict(fields), Conditions=list(conditions), ExpiresIn=expires_in)
        url, form = SigV4Signer(region).presign_post(
            creds, regional_endpoint(BUCKET, region, endpoint_url), fields={**fields, "key": key},
            conditions=conditions + [{"bucket": BUCKET}, {"key": key}], expires_in=expires_in, now=NOW)
        assert (url, form) == (expected["url"], expected["fields"])


# ---------------------------------------------------------------- the tenant API
@pytest.fixture
def presigner() -> S3Presigner:
    return S3Presigner(bucket=BUCKET, region_name="eu-central-1", kms_key_id=KMS_KEY,
                       credentials=STATIC, clock=lambda: NOW)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_put_signs_content_type_and_our_kms_key_and_returns_them_as_required_headers(presigner):
    """Every signed header except host and Content-Length comes back in ``headers``: a browser
    that sends them gets in, one that drops Content-Type or the SSE headers breaks the
    signature. Content-Length is signed too; every client sends it from the body."""
    put = presigner.presign_put("T001", "uploads", "po 1.pdf", content_type="application/pdf", content_length=10)
    signed = query_of(put.url)["X-Amz-SignedHeaders"].split(";")
    assert sorted(signed) == sorted(["host", "content-length", *(h.lower() for h in put.headers)])
    assert put.headers == {
        "Content-Type": "application/pdf",
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
    }
    assert put.key == "T001/uploads/2026/05/04/po 1.pdf"


def test_put_matches_botocore_for_the_same_request(presigner):
    put = presigner.presign_put("T001", "uploads", "Zürich.pdf", content_type="application/pdf", content_length=10)
    client = reference_client("eu-central-1", None)
    use_credentials(client, STATIC)
    with frozen_botocore(NOW):
        expected = client.generate_presigned_url("put_object", Params={
            "Bucket": BUCKET, "Key": put.key, "ContentType": "application/pdf", "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KMS_KEY, "ContentLength": 10}, ExpiresIn=DEFAULT_EXPIRES_SECONDS)
    assert put.url == expected


def test_checksum_is_signed_only_when_given_and_no_sdk_checksum_parameters_sneak_in(presigner):
    """boto3 >= 1.36 may add x-amz-sdk-checksum-algorithm / CRC32 to requests; a browser cannot
    know them, so a presigned PUT must sign no checksum unless we ask for one."""
    plain = presigner.presign_put("T001", "uploads", "a.csv", content_type="text/csv", content_length=10)
    assert "checksum" not in plain.url.lower()
    digest = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
    with_sum = presigner.presign_put("T001", "uploads", "a.csv", content_type="text/csv", content_length=10, checksum_sha256=digest)
    assert "x-amz-checksum-sha256" in query_of(with_sum.url)["X-Amz-SignedHeaders"].split(";")
    assert with_sum.headers["x-amz-checksum-sha256"] == digest
    assert "sdk-checksum" not in with_sum.url
    with pytest.raises(ValueError, match="checksum_sha256"):
        presigner.presign_put("T001", "uploads", "a.csv", content_type="text/csv", content_length=10, checksum_sha256="abc=")


def test_urls_are_regional_virtual_hosted(presigner):
    """Not ``<bucket>.s3.amazonaws.com`` (what a default client returns): outside us-east-1 that
    name redirects, and the redirect loses the signature."""
    url = presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=10).url
    assert urlsplit(url).hostname == f"{BUCKET}.s3.eu-central-1.amazonaws.com"
    us = S3Presigner(bucket=BUCKET, region_name="us-east-1", kms_key_id=KMS_KEY, credentials=STATIC)
    assert urlsplit(us.presign_get("T001", build_key("T001", "u", "a")).url).hostname == f"{BUCKET}.s3.us-east-1.amazonaws.com"


def test_default_expiry_is_15_minutes_and_more_than_7_days_refused(presigner):
    put = presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=10)
    assert query_of(put.url)["X-Amz-Expires"] == "900"
    assert put.expires_at == NOW + dt.timedelta(minutes=15)
    week = presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=10, expires_in=MAX_EXPIRES_SECONDS)
    assert query_of(week.url)["X-Amz-Expires"] == str(7 * 24 * 3600)
    for bad in (MAX_EXPIRES_SECONDS + 1, 0, -5, 1.5, True):
        with pytest.raises(ValueError, match="expires_in"):
            presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=10, expires_in=bad)


def test_expiry_clamped_with_warning_to_temporary_credentials():
    """A URL dies with the session that signed it: promise no more than the session's life."""
    session_creds = SigningCredentials("ASIAEXAMPLEEXAMPLE01", "secret", "token", NOW + dt.timedelta(minutes=10))
    presigner = S3Presigner(bucket=BUCKET, region_name="eu-central-1", kms_key_id=KMS_KEY,
                            credentials=session_creds, clock=lambda: NOW)
    with pytest.warns(ExpiryClampedWarning, match="clamped to 600s"):
        get = presigner.presign_get("T001", build_key("T001", "u", "a", NOW), expires_in=3600)
    query = query_of(get.url)
    assert query["X-Amz-Expires"] == "600"
    assert query["X-Amz-Security-Token"] == "token"
    assert get.expires_at == session_creds.expiry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        presigner.presign_get("T001", build_key("T001", "u", "a", NOW), expires_in=300)  # within: no warning
    expired = S3Presigner(bucket=BUCKET, region_name="eu-central-1", kms_key_id=KMS_KEY,
                          credentials=session_creds, clock=lambda: NOW + dt.timedelta(hours=1))
    with pytest.raises(ValueError, match="expired"):
        expired.presign_put("T001", "u", "a", content_type="text/plain", content_length=10)


def test_refreshable_botocore_credentials_give_their_expiry():
    from botocore.credentials import RefreshableCredentials

    creds = RefreshableCredentials("ASIAEXAMPLEEXAMPLE01", "secret", "tok", NOW + dt.timedelta(minutes=20),
                                   refresh_using=lambda: pytest.fail("no refresh expected"), method="test",
                                   time_fetcher=lambda: NOW, advisory_timeout=60, mandatory_timeout=30)
    presigner = S3Presigner(bucket=BUCKET, region_name="eu-central-1", kms_key_id=KMS_KEY,
                            credentials=creds, clock=lambda: NOW)
    with pytest.warns(ExpiryClampedWarning):
        put = presigner.presign_put("T001", "u", "a", content_type="text/plain", content_length=10, expires_in=7200)
    assert query_of(put.url)["X-Amz-Expires"] == "1200"


def test_get_refuses_another_tenants_key(presigner):
    """The API cannot produce a GET of T002's object for tenant T001, nor escape by traversal."""
    other = build_key("T002", "uploads", "secret.pdf", NOW)
    with pytest.raises(ValueError, match="belongs to tenant 'T002'"):
        presigner.presign_get("T001", other)
    with pytest.raises(ValueError, match="belongs to tenant 'T002'"):
        presigner.presign_get("T001", parse_key(other))
    for sneaky in ("T001/../T002/uploads/2026/05/04/secret.pdf", "T001/uploads/2026/05/04/../../../T002/x",
                   "T0012/uploads/2026/05/04/a", "T001/uploads/2026/05/04/a/../../b"):
        with pytest.raises(ValueError):
            presigner.presign_get("T001", sneaky)


def test_get_sets_attachment_content_disposition_with_the_filename(presigner):
    key = build_key("T001", "uploads", 'Zürich "plan".pdf', NOW)
    get = presigner.presign_get("T001", key)
    disposition = query_of(get.url)["response-content-disposition"]
    assert disposition == "attachment; filename=\"Z_rich _plan_.pdf\"; filename*=UTF-8''Z%C3%BCrich%20%22plan%22.pdf"
    assert unquote(disposition.split("''")[1]) == 'Zürich "plan".pdf'
    assert get.method == "GET" and get.headers == {}


def test_post_fixes_key_size_range_content_type_and_sse(presigner):
    post = presigner.presign_post("T001", "uploads", "cv.pdf", content_type="application/pdf", max_bytes=10 * 1024 * 1024)
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": "T001/uploads/2026/05/04/cv.pdf"} in conditions
    assert ["content-length-range", 0, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"x-amz-server-side-encryption": "aws:kms"} in conditions
    assert {"x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY} in conditions
    assert {"bucket": BUCKET} in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert policy["expiration"] == "2026-05-04T12:45:00Z"
    assert post.fields["key"] == post.key and post.fields["Content-Type"] == "application/pdf"
    with pytest.raises(ValueError, match="max_bytes"):
        presigner.presign_post("T001", "uploads", "cv.pdf", content_type="application/pdf", max_bytes=6 * 1024**3)
    with pytest.raises(ValueError, match="min_bytes"):
        presigner.presign_post("T001", "uploads", "cv.pdf", content_type="application/pdf", max_bytes=10, min_bytes=11)


@pytest.mark.parametrize("content_type", ["", "pdf", "text/html\r\nX-Injected: 1", "application/pdf; x", "ü/x"])
def test_bad_content_type_refused(presigner, content_type):
    with pytest.raises(ValueError, match="content_type"):
        presigner.presign_put("T001", "uploads", "a", content_type=content_type, content_length=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bucket": "My_Bucket"}, "bucket"),
        ({"bucket": "with.dots.bucket"}, "bucket"),
        ({"region_name": "Frankfurt"}, "region_name"),
        ({"kms_key_id": "not a key"}, "kms_key_id"),
        ({"credentials": None}, "credentials"),
    ],
)
def test_bad_configuration_refused(kwargs, message):
    config = {"bucket": BUCKET, "region_name": "eu-central-1", "kms_key_id": KMS_KEY, "credentials": STATIC, **kwargs}
    with pytest.raises(ValueError, match=message):
        S3Presigner(**config)


def test_credentials_repr_hides_the_secret():
    creds = SigningCredentials("AKIAEXAMPLEEXAMPLE01", "super-secret", "super-token")
    assert "super" not in repr(creds)


# --- signed scope and active content (issue 22) ----------------------------------------------

from securestore.content_types import ACTIVE_CONTENT_TYPES  # noqa: E402


@pytest.mark.parametrize("size", [-1, MAX_SINGLE_UPLOAD_BYTES + 1, 1.5, True, "10", None])
def test_put_refuses_a_size_it_cannot_sign(presigner, size):
    """Signed scope: the caller states the body's size (0-5 GiB); anything else is refused."""
    with pytest.raises(ValueError, match="content_length"):
        presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=size)


@pytest.mark.parametrize("size", [0, 1, 10 * 1024 * 1024, MAX_SINGLE_UPLOAD_BYTES])
def test_put_signs_the_stated_size(presigner, size):
    """The signature covers ``content-length: <size>``: S3 refuses a body of any other length
    (LocalStack shows it: tests/localstack/test_presigned_s3.py)."""
    put = presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=size)
    assert "content-length" in query_of(put.url)["X-Amz-SignedHeaders"].split(";")
    other = presigner.presign_put("T001", "uploads", "a.pdf", content_type="application/pdf", content_length=size - 1 if size else 1)
    assert query_of(put.url)["X-Amz-Signature"] != query_of(other.url)["X-Amz-Signature"]


def _active_variants():
    for media in sorted(ACTIVE_CONTENT_TYPES) + ["application/atom+xml", "image/foo+xml"]:
        yield media
        yield media.upper()
        yield f"{media}; charset=utf-8"


@pytest.mark.parametrize("content_type", list(_active_variants()))
def test_every_active_content_type_is_refused_on_every_signing_path(presigner, content_type):
    """Attack class: active content on the shared file host. HTML, SVG, XHTML, any XML,
    JavaScript, CSS (any case, with parameters) cannot be signed for a PUT, a POST, a
    multipart upload or a GET's response content type."""
    from securestore.s3multipart import BrowserMultipartUploads

    with pytest.raises(ValueError, match="active content"):
        presigner.presign_put("T001", "uploads", "a", content_type=content_type, content_length=1)
    with pytest.raises(ValueError, match="active content"):
        presigner.presign_post("T001", "uploads", "a", content_type=content_type, max_bytes=1)
    with pytest.raises(ValueError, match="active content"):
        presigner.presign_get("T001", build_key("T001", "u", "a"), response_content_type=content_type)
    multipart = BrowserMultipartUploads(bucket=BUCKET, region_name="eu-central-1", kms_key_id=KMS_KEY,
                                        credentials=STATIC, s3_client=object())
    with pytest.raises(ValueError, match="active content"):
        multipart.start("T001", "uploads", "a", content_type=content_type, size=10 * 1024 * 1024)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "image/jpeg", "text/plain",
                                          "text/csv", "application/octet-stream", "application/zip",
                                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document"])
def test_passive_content_types_are_signed(presigner, content_type):
    put = presigner.presign_put("T001", "uploads", "a", content_type=content_type, content_length=1)
    assert put.headers["Content-Type"] == content_type
