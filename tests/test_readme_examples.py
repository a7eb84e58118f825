"""Every shell and Python example in the README runs as shown.

Each ```bash / ```python block is extracted and run, in README order, in one working directory
(as a user following the README would), against a local S3 (moto's server: it stores bytes,
it is the witness of no security property) with exactly the environment the README tells the
user to set: the variables `securestore env` writes from the stack outputs, the signer's
private key path, test credentials and `AWS_ENDPOINT_URL` pointing at the local S3, and the
virtualenv's `bin/` on PATH (`. .venv/bin/activate`).

A Python example whose first line is `# A Pulumi program` is a program, not a script: it is
evaluated as `pulumi preview` would run it, by the offline engine (`securestore preview`) with
this repository's policy pack, in a minimal project of its own.

An example that cannot run here says why in the README itself, on the line before it:
`<!-- example: needs ... -->` (the Pulumi CLI, a deployed stack, AWS's IAM enforcement); it is
reported as skipped under its name with that reason, never silently dropped. Class of
failure: documentation that drifts from the code (a renamed flag, a variable a command no
longer reads, a missing import) and leaves a new user with a traceback on their first try.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BLOCK = re.compile(r"(?:<!-- example: (?P<why>[^\n]*?) -->\n)?```(?P<lang>bash|sh|shell|python)\n(?P<body>.*?)```",
                   re.S)
HEADING = re.compile(r"^#{1,4} (.+)$", re.M)
TIMEOUT_SECONDS = 180
PULUMI_PROGRAM = "# A Pulumi program"
"""First line of a Python example that is a Pulumi program (run under the offline engine)."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def examples() -> list[tuple[str, str, str, str]]:
    """(name, language, body, skip reason or "") for every example, in README order."""
    found = []
    counts: dict[str, int] = {}
    headings = [(m.start(), m.group(1)) for m in HEADING.finditer(README)]
    for match in BLOCK.finditer(README):
        heading = [title for start, title in headings if start < match.start()][-1]
        section = _slug(heading)
        counts[section] = counts.get(section, 0) + 1
        name = f"{section}-{counts[section]}"
        found.append((name, match.group("lang"), match.group("body"), match.group("why") or ""))
    return found


EXAMPLES = examples()


def test_the_readme_has_runnable_examples():
    """The extraction finds the client examples (a regex that matched nothing would pass everything)."""
    runnable = [name for name, _, _, why in EXAMPLES if not why]
    assert len(runnable) >= 4, runnable
    assert all(why.startswith(("needs", "run by")) for _, _, _, why in EXAMPLES if why)


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory):
    """The environment the README tells a user to set, against a moto S3 server."""
    import boto3
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    root = tmp_path_factory.mktemp("readme")
    home = root / "home"
    home.mkdir()
    region = "eu-central-1"
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    kms = boto3.client("kms", endpoint_url=endpoint, region_name=region, **{
        "aws_access_key_id": "test", "aws_secret_access_key": "test"})
    key_arn = kms.create_key(Description="readme examples")["KeyMetadata"]["Arn"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                      aws_access_key_id="test", aws_secret_access_key="test")
    bucket = "securestore-dev-storage-data-readme"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    outputs = {  # what `pulumi stack output --json -s dev` prints (names as __main__.py exports them)
        "bucketName": bucket, "kmsKeyArn": key_arn, "distributionDomainName": "d111111abcdef8.cloudfront.net",
        "cloudfrontPublicKeyId": "K2JCJMDEHXQW5F",
        "uploaderRoleArn": "arn:aws:iam::123456789012:role/securestore-dev-access-uploader",
        "tenantRoleArn": "arn:aws:iam::123456789012:role/securestore-dev-access-tenant",
    }
    (root / "outputs.json").write_text(json.dumps(outputs))
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (root / "signer.pem").write_bytes(signer.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(home), "LANG": "C.UTF-8", "AWS_ENDPOINT_URL": endpoint,
           "AWS_CONFIG_FILE": str(home / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
           "SECURESTORE_CF_PRIVATE_KEY": str(root / "signer.pem"), "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
           **credentials}
    written = subprocess.run([sys.executable, "-m", "securestore.cli", "env", "--file", str(root / "outputs.json"),
                              "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert written.returncode == 0, written.stderr
    env.update(json.loads(written.stdout))
    work = root / "work"
    work.mkdir()
    try:
        yield env, work
    finally:
        server.stop()


@pytest.mark.parametrize(("name", "language", "body", "why"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_readme_example_runs_as_shown(readme_env, name, language, body, why):
    if why:
        pytest.skip(f"README example {name}: {why}")
    env, work = readme_env
    cwd = work
    if language == "python" and body.startswith(PULUMI_PROGRAM):
        # Not a script: it runs where a Pulumi program runs, here the offline engine (mocked
        # provider, no AWS), with this repository's policy pack, in a minimal project of its own.
        cwd = work / name
        cwd.mkdir()
        (cwd / "__main__.py").write_text(body)
        (cwd / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (cwd / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
        command = [sys.executable, "-m", "securestore.cli", "preview", "--project-dir", str(cwd), "--stack", "dev",
                   "--policy-pack", str(REPO / "policies")]
    elif language == "python":
        command = [sys.executable, "-c", body]
    else:
        command = ["bash", "-euo", "pipefail", "-c", body]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, f"README example {name} failed (exit {result.returncode}):\n{body}\n" \
                                   f"--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
