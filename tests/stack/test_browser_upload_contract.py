"""The contract between the pre-signer and the stack's CORS rules, kept without a browser.

A browser sends a pre-signed request only if the bucket's CORS rules allow its origin, its
method and every header it must send (the preflight), and it lets the page read only exposed
response headers. The browser tests (tests/localstack/browser/) prove this end to end in
Chromium; these tests keep the same contract in the fast default run, for every kind of
pre-signed request the client package produces, every stack, and every allowed origin. The
rules are the stack's recorded ``BucketCorsConfiguration`` inputs, never a copy.

They also check that the headers the browser sends still satisfy the bucket policy's SSE denies
(the policy evaluator; LocalStack does not evaluate bucket policies), so that making the CORS
contract hold never loosened encryption.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from access.evaluator import Check, authorize
from access.matrix import TRANSPORTS, callers
from access.stack_access import stack_access
from support.stack_bucket import exposed, matching_rule

from securestore._sigv4 import SigningCredentials
from securestore.offline.bucket_settings import recorded_cors_rules
from securestore.s3multipart import BrowserMultipartUploads
from securestore.s3presign import S3Presigner

REPO = Path(__file__).resolve().parents[2]
PAGE_SCRIPT = REPO / "examples" / "browser-upload" / "static" / "upload.js"
CREDENTIALS = SigningCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)
#: Headers a page never lists in Access-Control-Request-Headers: the browser sets them itself.
BROWSER_SET_HEADERS = {"content-length", "host"}
TENANT = "acme"


class FakeS3:
    """Just enough of an S3 client for BrowserMultipartUploads.start to sign part URLs."""

    def create_multipart_upload(self, **params):
        return {"UploadId": "upload-1", **params}

    def abort_multipart_upload(self, **params):  # pragma: no cover - only on a signing failure
        pass


def _stack_presigner(graph, **options) -> S3Presigner:
    access = stack_access(graph)
    bucket = access.bucket_arn.rsplit(":", 1)[1]
    return S3Presigner(bucket=bucket, region_name=access.region, kms_key_id=access.kms_key_arn,
                       credentials=CREDENTIALS, clock=lambda: NOW, **options)


def browser_requests(graph) -> dict[str, tuple[str, dict[str, str]]]:
    """Every kind of pre-signed request the client produces: name -> (method, headers to send)."""
    presigner = _stack_presigner(graph)
    digest = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    put = presigner.presign_put(TENANT, "uploads", "po.pdf", content_type="application/pdf", content_length=10)
    put_checksum = presigner.presign_put(TENANT, "uploads", "po.pdf", content_type="application/pdf", content_length=10,
                                         checksum_sha256=digest)
    get = presigner.presign_get(TENANT, put.key)
    multipart = BrowserMultipartUploads(bucket=presigner.bucket, region_name=presigner.region_name,
                                        kms_key_id=presigner.kms_key_id, credentials=CREDENTIALS, s3_client=FakeS3(),
                                        clock=lambda: NOW).start(TENANT, "uploads", "big.bin",
                                                                 content_type="application/octet-stream", size=20 << 20)
    signed_part_headers = set(re.search(r"X-Amz-SignedHeaders=([^&]+)", multipart.parts[0].url).group(1).split("%3B"))
    assert signed_part_headers == {"content-length", "host"}, signed_part_headers
    # A POST form puts its fields in the body: the request itself carries no header of ours.
    return {
        "put": ("PUT", dict(put.headers)),
        "put-with-checksum": ("PUT", dict(put_checksum.headers)),
        "post-form": ("POST", {}),
        "get": ("GET", dict(get.headers)),
        "upload-part": ("PUT", {}),
    }


def preflight_headers(headers: dict[str, str]) -> list[str]:
    """What Chromium lists in Access-Control-Request-Headers (conservatively: every header we set)."""
    return [name.lower() for name in headers if name.lower() not in BROWSER_SET_HEADERS]


def test_every_presigned_request_passes_the_stacks_cors_preflight_from_every_allowed_origin(graph):
    """Promise: for each stack, each allowed origin and each kind of pre-signed request (PUT,
    PUT with checksum, POST form, GET, multipart UploadPart), the method is allowed and the headers
    the browser must send are a subset of AllowedHeaders (case-insensitive, ``x-amz-meta-*`` a
    prefix). Attack class: none; a broken contract is an outage (every browser upload refused).
    Before the presigner stopped signing the bucket-key flag, the PUTs failed this."""
    rules = recorded_cors_rules(graph)
    origins = [origin for rule in rules for origin in rule["AllowedOrigins"]]
    assert origins, f"{graph.stack}: no origin may upload"
    refused = [(kind, origin, method, headers)
               for kind, (method, headers) in browser_requests(graph).items() for origin in origins
               if matching_rule(rules, origin, method, preflight_headers(headers)) is None]
    assert not refused, f"{graph.stack}: preflights S3 would refuse: {refused}"


def test_every_response_header_the_page_reads_is_exposed(graph):
    """Promise: every header the page reads with getResponseHeader (ETag, for completing a
    multipart upload) is in ExposeHeaders of the rule that answers the page's requests; the
    list is read from the page's own script. Attack class: none (an unexposed ETag makes every
    multipart upload fail)."""
    read = re.findall(r"getResponseHeader\(\s*[\"']([^\"']+)[\"']\s*\)", PAGE_SCRIPT.read_text())
    assert "ETag" in read, "the page completes multipart uploads from the parts' ETags"
    rules = recorded_cors_rules(graph)
    for origin in (o for rule in rules for o in rule["AllowedOrigins"]):
        rule = matching_rule(rules, origin, "PUT")
        missing = [header for header in read if not exposed(rule, header)]
        assert not missing, f"{graph.stack}: {origin} cannot read {missing}"


@pytest.mark.parametrize("extra", ["x-amz-server-side-encryption-bucket-key-enabled", "x-amz-acl", "x-amz-tagging",
                                   "authorization"])
def test_a_header_outside_the_allowed_list_fails_the_preflight(dev_graph, extra):
    """Negative control for the two tests above: the matcher refuses what S3 refuses, e.g. the
    bucket-key flag the presigner used to sign (the bug the browser test found), an ACL or tags.
    Attack class: a page or presigner sending headers the rules never agreed to."""
    rules = recorded_cors_rules(dev_graph)
    method, headers = browser_requests(dev_graph)["put"]
    assert matching_rule(rules, "http://localhost:3000", method, preflight_headers(headers)) is not None
    assert matching_rule(rules, "http://localhost:3000", method, [*preflight_headers(headers), extra]) is None
    assert matching_rule(rules, "http://localhost:3000", method, ["x-amz-meta-purchase-order"]) is not None
    assert matching_rule(rules, "http://localhost:3001", method, preflight_headers(headers)) is None


def test_presigner_signs_the_bucket_key_flag_only_when_asked(dev_graph):
    """Promise: by default no PUT or POST asks the browser for the bucket-key flag (the stack's
    bucket default turns the bucket key on); a caller that asks for it explicitly gets it signed.
    Attack class: none (regression guard for the preflight failure)."""
    default = _stack_presigner(dev_graph)
    explicit = _stack_presigner(dev_graph, bucket_key_enabled=True)
    flag = "x-amz-server-side-encryption-bucket-key-enabled"
    assert flag not in default.presign_put(TENANT, "uploads", "a.pdf", content_type="application/pdf", content_length=10).headers
    assert flag not in default.presign_post(TENANT, "uploads", "a.pdf", content_type="application/pdf",
                                            max_bytes=10).fields
    assert explicit.presign_put(TENANT, "uploads", "a.pdf", content_type="application/pdf", content_length=10).headers[flag] == "true"


@pytest.mark.parametrize("kind", ["put", "post"])
def test_what_the_browser_sends_still_passes_the_bucket_policys_encryption_denies(graph, kind):
    """Promise: the SSE headers (PUT) or form fields (POST) a browser sends satisfy the stack's
    bucket policy, while the same request naming AES256 or another KMS key is denied: dropping
    the bucket-key flag did not loosen encryption. Evaluated with the project's IAM evaluator
    (LocalStack does not enforce bucket policies). Attack class: uploads under an encryption
    the stack does not control."""
    access = stack_access(graph)
    presigner = _stack_presigner(graph)
    if kind == "put":
        signed = presigner.presign_put(TENANT, "uploads", "po.pdf", content_type="application/pdf", content_length=10)
        sent, key = signed.headers, signed.key
    else:
        signed = presigner.presign_post(TENANT, "uploads", "po.pdf", content_type="application/pdf", max_bytes=10)
        sent, key = signed.fields, signed.key
    sse = {f"s3:{name.lower()}": value for name, value in sent.items()
           if name.lower().startswith("x-amz-server-side-encryption")}
    assert sse, f"the {kind} sends no SSE header"
    caller = callers(access)["uploader-acme"]

    def allowed(headers: dict[str, str]) -> bool:
        context = {**TRANSPORTS["tls1.3"], **headers}
        return authorize(caller, Check("s3:PutObject", f"{access.bucket_arn}/{key}", context,
                                       access.bucket_policy, access.account))

    assert allowed(sse), f"{graph.stack}: the bucket policy denies the {kind} the presigner signs: {sse}"
    other_key = access.kms_key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    assert not allowed({**sse, "s3:x-amz-server-side-encryption": "AES256"})
    assert not allowed({**sse, "s3:x-amz-server-side-encryption-aws-kms-key-id": other_key})
