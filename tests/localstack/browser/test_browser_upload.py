"""Browser uploads straight to S3, witnessed by headless Chromium against LocalStack.

Each test drives the reference page (examples/browser-upload) the way a user does, against a
bucket that carries the dev stack's own CORS rules (see conftest.py for the witness chain and
its gaps: LocalStack does not evaluate the bucket policy, so the SSE denies are proved by policy
evaluation in tests/stack/test_browser_upload_contract.py).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from browser_app import MAX_POST_BYTES, PART_SIZE, UploadPage, make_backend

from securestore.keys import build_key, parse_key
from securestore.s3presign import S3Presigner

pytestmark = pytest.mark.localstack


def _stored_as_uploaded(s3env, key: str, content: bytes, content_type: str) -> None:
    head = s3env.s3.head_object(Bucket=s3env.bucket, Key=key)
    assert s3env.body(key) == content, f"{key}: stored bytes differ from the file"
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == s3env.kms_key_arn, head
    assert head["ContentType"] == content_type, head


# -- uploads that must work ------------------------------------------------------------------

def test_presigned_put_from_the_allowed_origin_stores_the_file(page: UploadPage, s3env, files):
    """Promise: a browser on an allowed origin uploads with the pre-signed PUT and S3 stores the
    exact bytes under the tenant's key, SSE-KMS with the stack's key. Attack class: none, this is
    the product's first promise; it failed before the presigner stopped signing
    x-amz-server-side-encryption-bucket-key-enabled (outside the CORS AllowedHeaders, so the
    preflight got 403)."""
    path, content = files("purchase order.pdf", 70 * 1024)
    state, key, text = page.open("alice").upload("put", path)
    page.screenshot("put-succeeded")
    assert state == "done", text
    assert parse_key(key).tenant_id == "T001" and key.endswith("/purchase order.pdf"), key
    _stored_as_uploaded(s3env, key, content, "application/pdf")
    head = s3env.s3.head_object(Bucket=s3env.bucket, Key=key)
    assert head.get("BucketKeyEnabled") is True, "the bucket default must still turn the bucket key on"


def test_presigned_post_form_from_the_allowed_origin_stores_the_file(page: UploadPage, s3env, files):
    """Promise: the pre-signed POST form (exact key, type, size range) works from a browser.
    Attack class: none (the working path the negative controls below are measured against)."""
    path, content = files("cv.txt", 40 * 1024)
    state, key, text = page.open("alice").upload("post", path)
    assert state == "done", text
    assert parse_key(key).tenant_id == "T001", key
    _stored_as_uploaded(s3env, key, content, "text/plain")


def test_multipart_upload_from_the_allowed_origin_reads_etags_and_stores_the_file(page: UploadPage, s3env, files):
    """Promise: a file of several parts goes up part by part from the browser; the page can read
    each part's ETag (exposed by CORS), the backend completes from them, and the stored object
    is byte-identical. Attack class: none (working path; it needs ETag in ExposeHeaders)."""
    path, content = files("drawing.bin", PART_SIZE + 123_457)  # two parts: a full one and a short last one
    state, key, text = page.open("bob").upload("multipart", path)
    assert state == "done", text
    assert parse_key(key).tenant_id == "T002", key
    _stored_as_uploaded(s3env, key, content, "application/octet-stream")
    assert not s3env.s3.list_multipart_uploads(Bucket=s3env.bucket, Prefix=key).get("Uploads")


# -- negative controls: the browser and LocalStack really enforce CORS ------------------------

@pytest.mark.parametrize("method", ["put", "post", "multipart"])
def test_page_from_an_origin_outside_the_rules_cannot_upload(browser, app_server, s3env, files, method):
    """Promise: the page served from an origin the bucket's CORS rules do not list cannot upload
    by any of its methods, even with valid pre-signed requests from the same backend: Chromium's
    preflight gets 403 (the page's POST is preflighted too, because it listens for upload
    progress). Attack class: a foreign or look-alike site embedding the upload flow."""
    outside = f"http://127.0.0.1:{app_server.server_address[1]}"
    assert all(outside not in rule["AllowedOrigins"] for rule in s3env.cors_rules)
    name = f"from-elsewhere-{method}.pdf"
    path, _ = files(name, 2048)  # one part is enough: the first PUT is already refused
    page = UploadPage(browser, outside).open("alice")
    state, _, text = page.upload(method, path)
    assert state == "refused" and "browser blocked" in text, text
    assert page.console_says_cors_blocked()
    if method == "put":
        page.screenshot("put-refused-origin-outside-cors")
    assert not [k for k in s3env.keys("T001/") if k.endswith(f"/{name}")]
    assert not s3env.s3.list_multipart_uploads(Bucket=s3env.bucket, Prefix="T001/").get("Uploads"), \
        "a refused multipart upload must be aborted"


def test_simple_form_post_from_an_origin_outside_the_rules_lands_cors_is_no_guard_for_post(
        browser, app_server, s3env, files):
    """The documented limit of CORS, pinned so that nobody relies on it: a form POST without
    upload-progress listeners is a CORS "simple request", sent with no preflight. The foreign page
    cannot READ S3's answer, but the object lands. What stops a foreign site is that it cannot get
    a signed form: the backend signs only for its own signed-in users (same-origin JSON API,
    SameSite=Strict session cookie), and the form pins key, type and size.
    Attack class: cross-origin form upload."""
    outside = f"http://127.0.0.1:{app_server.server_address[1]}"
    page = UploadPage(browser, outside).open("alice")
    signed = page.api("/api/uploads/post", {"filename": "simple-request.txt", "content_type": "text/plain"})["body"]
    outcome = page.driver.execute_async_script("""
        const [signed, done] = arguments;
        const form = new FormData();
        for (const [name, value] of Object.entries(signed.fields)) form.append(name, value);
        form.append("file", new Blob(["sent without a preflight"], {type: "text/plain"}));
        fetch(signed.url, {method: "POST", body: form}).then((r) => done("read " + r.status), (e) => done("unreadable"));
    """, signed)
    assert outcome == "unreadable"
    assert s3env.body(signed["key"]) == b"sent without a preflight"


def test_presigned_put_needing_a_header_outside_the_allowed_list_is_blocked(
        browser, page: UploadPage, app_server, app_module, s3env, files):
    """Promise: a pre-signed PUT whose signed headers are not all in the CORS AllowedHeaders
    cannot be sent by a browser: Chromium's preflight gets 403 and the PUT never leaves. Here the
    extra header is x-amz-server-side-encryption-bucket-key-enabled, i.e. the presigner as it
    was before the fix. The same request without a browser succeeds, so CORS (not the signature)
    is what refused. Attack class: any signed header the rules do not list (a regression in the
    presigner or the CORS rules)."""

    class Recording(S3Presigner):
        issued: list = []

        def presign_put(self, *args, **kwargs):
            request = super().presign_put(*args, **kwargs)
            self.issued.append(request)
            return request

    regular = app_server.backend
    app_server.backend = make_backend(app_module, s3env, Recording, bucket_key_enabled=True)
    try:
        path, content = files("bucket-key-header.pdf", 2048)
        state, _, text = page.open("alice").upload("put", path)
    finally:
        app_server.backend = regular
    assert state == "refused" and "browser blocked" in text, text
    assert page.console_says_cors_blocked()
    (issued,) = Recording.issued
    assert "x-amz-server-side-encryption-bucket-key-enabled" in issued.headers
    assert not s3env.exists(issued.key)
    preflight = urllib.request.Request(issued.url, method="OPTIONS", headers={
        "Origin": page.origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": ",".join(h.lower() for h in issued.headers)})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(preflight, timeout=10)
    assert refused.value.code == 403
    direct = urllib.request.Request(issued.url, data=content, method="PUT", headers=dict(issued.headers))
    with urllib.request.urlopen(direct, timeout=10) as response:
        assert response.status == 200
    assert s3env.body(issued.key) == content


def test_oversize_post_is_refused_with_s3s_reason(page: UploadPage, s3env, files):
    """Promise: a file over the POST policy's content-length-range is refused by S3, nothing is
    stored, and the page shows S3's reason. Attack class: oversize uploads (storage-cost abuse)
    through a legitimately issued form."""
    path, _ = files("too-big.txt", MAX_POST_BYTES + 1)
    state, _, text = page.open("alice").upload("post", path)
    page.screenshot("post-refused-too-large")
    assert state == "refused" and "EntityTooLarge" in text, text
    assert not [k for k in s3env.keys("T001/") if k.endswith("/too-big.txt")]


# -- the backend never signs for another tenant ------------------------------------------------

def test_a_tenant_cannot_obtain_a_url_for_another_tenants_key_through_the_backend(page: UploadPage, app_server, s3env):
    """Promise: whatever the signed-in browser sends, the backend signs only keys under its own
    tenant: a tenant field, a traversal filename, or another tenant's key or upload id is
    refused, and without a session nothing is signed. Attack class: horizontal privilege
    escalation through the signing API (IDOR)."""
    page.open("alice")
    assert page.tenant == "T001"
    own = page.api("/api/uploads/put", {"filename": "mine.pdf", "content_type": "application/pdf", "size": 10})
    assert own["status"] == 200 and own["body"]["key"].startswith("T001/uploads/")
    for endpoint in ("/api/uploads/put", "/api/uploads/post"):
        answer = page.api(endpoint, {"filename": "x.pdf", "tenant_id": "T002"})
        assert answer["status"] == 400 and "tenant comes from your sign-in" in answer["body"]["error"], answer
        for filename in ("../T002/uploads/x.pdf", "T002/uploads/2026/01/01/x.pdf", ".."):
            answer = page.api(endpoint, {"filename": filename, **({"size": 10} if endpoint.endswith("put") else {})})
            assert answer["status"] == 400, (endpoint, filename, answer)
    # Bob's upload in progress: Alice knows (guesses, steals) its key and id.
    bobs = app_server.backend.multipart.start("T002", "uploads", "secret plan.pdf",
                                              content_type="application/pdf", size=1024)
    for endpoint in ("/api/uploads/multipart/complete", "/api/uploads/multipart/abort"):
        body = {"key": bobs.key, "upload_id": bobs.upload_id}
        if endpoint.endswith("complete"):
            body["parts"] = [{"part_number": 1, "etag": '"0123456789abcdef0123456789abcdef"'}]
        answer = page.api(endpoint, body)
        assert answer["status"] == 400 and "belongs to tenant 'T002'" in answer["body"]["error"], answer
        alices_key = build_key("T001", "uploads", "secret plan.pdf")
        answer = page.api(endpoint, {**body, "key": alices_key})  # her own key, his upload id
        assert answer["status"] == 404 and answer["body"]["code"] == "NoSuchUpload", answer
    uploads = s3env.s3.list_multipart_uploads(Bucket=s3env.bucket, Prefix="T002/").get("Uploads", [])
    assert bobs.upload_id in [u["UploadId"] for u in uploads], "Bob's upload must be untouched"
    app_server.backend.multipart.abort("T002", bobs.key, bobs.upload_id)
    page.driver.delete_all_cookies()
    answer = page.api("/api/uploads/put", {"filename": "anonymous.pdf"})
    assert answer["status"] == 401, answer
