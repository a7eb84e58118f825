"""The client CLI: ``key``, ``presign put|post|get``, ``sign-url``, ``sign-cookies``, ``assume``.

Handlers are called through ``securestore.cli.main`` in-process; credentials come from the
environment (static test keys), so nothing reaches AWS. ``assume`` end to end runs against
LocalStack in tests/localstack.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from securestore.cli import main

REPO = Path(__file__).resolve().parents[2]
BUCKET = "securestore-cli-bucket"
KMS_KEY = "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"
DOMAIN = "d111111abcdef8.cloudfront.net"


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE01", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_REGION": "eu-central-1", "SECURESTORE_BUCKET": BUCKET,
                        "SECURESTORE_KMS_KEY_ID": KMS_KEY, "AWS_CONFIG_FILE": "/nonexistent",
                        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "SECURESTORE_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def private_key_file(tmp_path_factory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("cf") / "cloudfront.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_key_prints_the_key(capsys):
    assert main(["key", "T001", "uploads", "po 1.pdf", "--date", "2026-01-02"]) == 0
    assert capsys.readouterr().out == "T001/uploads/2026/01/02/po 1.pdf\n"


def test_key_json_gives_the_parts(capsys):
    out = run_json(capsys, "key", "T001", "uploads", "a.pdf", "--date", "2026-01-02", "--json")
    assert out == {"key": "T001/uploads/2026/01/02/a.pdf", "tenant_id": "T001", "module": "uploads",
                   "date": "2026-01-02", "filename": "a.pdf"}


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["key", "T001", "uploads", "../etc"], "filename '../etc' contains '/'"),
        (["key", "public", "uploads", "a"], "tenant_id 'public' is reserved"),
        (["key", "T001", "Uploads", "a"], "module 'Uploads' is invalid"),
        (["key", "T001", "cvs", "a", "--allowed-modules", "uploads,drawings"], "module 'cvs' is not allowed"),
    ],
)
def test_key_bad_input_exits_2_with_the_reason_on_stderr(capsys, argv, reason):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert reason in captured.err and captured.out == ""


def test_key_bad_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's own exit for a bad option value
        main(["key", "T001", "uploads", "a", "--date", "2026-02-30"])
    assert exit_info.value.code == 2
    assert "is not YYYY-MM-DD" in capsys.readouterr().err


def test_key_command_as_a_process_exits_2():
    """The installed entry point behaves the same: exit status 2, reason on stderr."""
    result = subprocess.run([sys.executable, "-m", "securestore.cli", "key", "T001", "uploads", "a\\b"],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert "securestore key: error: filename" in result.stderr and "contains '\\\\'" in result.stderr


def test_presign_put_json_has_url_and_required_headers(capsys, aws_env, tmp_path):
    upload = tmp_path / "po.pdf"
    upload.write_bytes(b"%PDF-1.7")
    out = run_json(capsys, "presign", "put", "T001", "uploads", "po.pdf", "--content-type", "application/pdf",
                   "--file", str(upload), "--json")
    assert out["method"] == "PUT" and out["key"].startswith("T001/uploads/")
    assert urlsplit(out["url"]).hostname == f"{BUCKET}.s3.eu-central-1.amazonaws.com"
    assert out["headers"]["x-amz-server-side-encryption-aws-kms-key-id"] == KMS_KEY
    assert out["headers"]["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(b"%PDF-1.7").digest()).decode()
    signed = parse_qs(urlsplit(out["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    # Content-Length is signed from --file's size; every client sends it from the body.
    assert sorted(signed) == sorted(["host", "content-length", *(h.lower() for h in out["headers"])])


def test_presign_put_needs_the_body_size(capsys, aws_env):
    """Signed scope: without --content-length or --file there is no size to sign (exit 2)."""
    assert main(["presign", "put", "T001", "uploads", "a.pdf", "--content-type", "application/pdf"]) == 2
    assert "--content-length" in capsys.readouterr().err
    out = run_json(capsys, "presign", "put", "T001", "uploads", "a.pdf", "--content-type", "application/pdf",
                   "--content-length", "10MiB", "--json")
    assert "content-length" in parse_qs(urlsplit(out["url"]).query)["X-Amz-SignedHeaders"][0].split(";")


def test_presign_refuses_active_content(capsys, aws_env):
    """Active content on the file host: HTML is refused with one line naming what to use."""
    assert main(["presign", "put", "T001", "uploads", "a.html", "--content-type", "text/html",
                 "--content-length", "10"]) == 2
    err = capsys.readouterr().err
    assert "active content" in err and "application/octet-stream" in err and "Traceback" not in err


def test_presign_post_json_has_policy_fields(capsys, aws_env):
    out = run_json(capsys, "presign", "post", "T001", "cvs", "cv.pdf", "--content-type", "application/pdf",
                   "--max-bytes", "1048576", "--json")
    policy = json.loads(base64.b64decode(out["fields"]["policy"]))
    assert ["content-length-range", 0, 1048576] in policy["conditions"]
    assert {"key": out["key"]} in policy["conditions"]


def test_presign_get_refuses_other_tenant(capsys, aws_env):
    assert main(["presign", "get", "T001", "T002/uploads/2026/01/02/a.pdf"]) == 2
    assert "belongs to tenant 'T002'" in capsys.readouterr().err
    out = run_json(capsys, "presign", "get", "T001", "T001/uploads/2026/01/02/a.pdf", "--inline", "--json")
    assert "response-content-disposition=inline" in out["url"]


def test_presign_requires_bucket(capsys, aws_env, monkeypatch):
    monkeypatch.delenv("SECURESTORE_BUCKET")
    assert main(["presign", "put", "T001", "uploads", "a", "--content-type", "text/plain"]) == 2
    assert "--bucket is required" in capsys.readouterr().err


def test_sign_url_and_cookies(capsys, private_key_file):
    common = ["--domain", DOMAIN, "--key-pair-id", "K2JCJMDEHXQW5F", "--private-key", str(private_key_file)]
    out = run_json(capsys, "sign-url", "T001", "T001/drawings/2026/01/02/p.pdf", *common, "--expires-in", "300", "--json")
    assert out["url"].startswith(f"https://{DOMAIN}/T001/drawings/2026/01/02/p.pdf?Expires=")
    starts = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    custom = run_json(capsys, "sign-url", "T001", "T001/drawings/2026/01/02/p.pdf", *common, "--starts-at", starts,
                      "--ip-range", "203.0.113.0/24", "--distribution-ipv6", "off", "--hash-algorithm", "SHA256",
                      "--json")
    assert "Policy=" in custom["url"] and custom["url"].endswith("Hash-Algorithm=SHA256")
    # The distribution serves IPv6 unless told otherwise: an IP restriction is refused (exit 2).
    assert main(["sign-url", "T001", "T001/drawings/2026/01/02/p.pdf", *common, "--ip-range", "203.0.113.0/24"]) == 2
    assert "serves IPv6" in capsys.readouterr().err
    cookies = run_json(capsys, "sign-cookies", "T001", *common, "--json")
    assert cookies["resource"] == f"https://{DOMAIN}/T001/*" and cookies["path"] == "/T001/"
    assert set(cookies["cookies"]) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    assert main(["sign-url", "T001", "T002/drawings/2026/01/02/p.pdf", *common]) == 2
    assert "belongs to tenant 'T002'" in capsys.readouterr().err


def test_assume_rejects_bad_role_before_calling_aws(capsys, aws_env):
    assert main(["assume", "not-an-arn", "--tenant", "T001"]) == 2
    assert "role_arn 'not-an-arn' is not an IAM role ARN" in capsys.readouterr().err
    assert main(["assume", "arn:aws:iam::123456789012:role/x", "--mfa-serial", "arn:aws:iam::123456789012:mfa/a"]) == 2
    assert "--mfa-serial and --mfa-code go together" in capsys.readouterr().err


def test_client_path_imports_neither_pulumi_nor_heavy_modules_at_registration():
    """Backends import the client without Pulumi; `securestore key` does not even load boto3."""
    code = (
        "import sys\n"
        "import securestore.keys, securestore.s3presign, securestore.cloudfront, securestore.sts\n"
        "assert not [m for m in sys.modules if m.startswith('pulumi')], 'pulumi imported'\n"
        "import securestore.cli.sign, argparse\n"
        "parser = argparse.ArgumentParser(); securestore.cli.sign.register(parser.add_subparsers())\n"
        "heavy = [m for m in ('boto3', 'botocore', 'cryptography', 'pulumi') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
