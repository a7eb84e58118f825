"""`pulumi stack output --json | securestore env`: stack outputs to client settings in one step.

Class of failure: a setting that silently does not reach a command (a variable one command
reads and another ignores), or a value that breaks out of its quoting in `eval "$(...)"`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "bucketName": "securestore-prod-storage-data-1a2b3c",
    "kmsKeyArn": "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21",
    "distributionDomainName": "d111111abcdef8.cloudfront.net",
    "cloudfrontPublicKeyId": "K2JCJMDEHXQW5F",
    "uploaderRoleArn": "arn:aws:iam::123456789012:role/securestore-prod-access-uploader",
    "tenantRoleArn": "arn:aws:iam::123456789012:role/securestore-prod-access-tenant",
    "lambdaRoleArn": "arn:aws:iam::123456789012:role/lambda",
}


def env_command(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "securestore.cli", "env", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_shell_lines_export_every_setting_with_its_source():
    result = env_command(stdin=json.dumps(OUTPUTS))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "export SECURESTORE_BUCKET=securestore-prod-storage-data-1a2b3c  # from stack output bucketName" in lines
    assert "export AWS_REGION=eu-central-1  # from stack output kmsKeyArn" in lines
    assert sum(line.startswith("export ") for line in lines) == 7


def test_shell_output_evaluates_to_the_values_even_with_hostile_characters():
    """A value with quotes, `$(...)` or `;` stays one value after `eval` (no command injection)."""
    hostile = dict(OUTPUTS, bucketName="x'; touch /tmp/pwned-16; echo '$(id)")
    result = env_command(stdin=json.dumps(hostile))
    script = result.stdout + '\nprintf %s "$SECURESTORE_BUCKET"'
    evaluated = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert evaluated.stdout == hostile["bucketName"]
    assert not os.path.exists("/tmp/pwned-16")


def test_dotenv_and_json_formats():
    dotenv = env_command("--format", "dotenv", stdin=json.dumps(OUTPUTS)).stdout.splitlines()
    assert "# from stack output cloudfrontPublicKeyId" in dotenv and "SECURESTORE_CF_KEY_PAIR_ID=K2JCJMDEHXQW5F" in dotenv
    as_json = json.loads(env_command("--format", "json", stdin=json.dumps(OUTPUTS)).stdout)
    assert as_json["SECURESTORE_KMS_KEY_ID"] == OUTPUTS["kmsKeyArn"]
    assert len(as_json) == 7


def test_missing_or_secret_outputs_are_named_on_stderr():
    partial = {"bucketName": "b-1", "kmsKeyArn": "[secret]"}
    result = env_command(stdin=json.dumps(partial))
    assert result.returncode == 0
    assert "SECURESTORE_KMS_KEY_ID: stack output 'kmsKeyArn' is not a plain string" in result.stderr
    assert "stack output 'distributionDomainName' is missing" in result.stderr


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]"])
def test_bad_input_is_exit_2(text):
    result = env_command(stdin=text)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_every_client_command_reads_the_variables_env_writes(tmp_path):
    """The settings `env` writes are the ones upload, download, ls, rm and presign read
    (before: upload/download ignored SECURESTORE_BUCKET and SECURESTORE_S3_ENDPOINT_URL)."""
    shell = env_command(stdin=json.dumps(OUTPUTS)).stdout
    script = shell + "\n" + "\n".join([
        "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE=/nonexistent",
        "export SECURESTORE_S3_ENDPOINT_URL=http://127.0.0.1:9",
        f"echo x > {tmp_path}/a.txt",
        f"{sys.executable} -m securestore.cli upload {tmp_path}/a.txt --key a.txt --dryrun",
        f"{sys.executable} -m securestore.cli download a.txt {tmp_path} --dryrun",
        f"{sys.executable} -m securestore.cli presign get T001 T001/docs/2026/01/02/a.pdf",
        f"{sys.executable} -m securestore.cli presign put T001 docs a.pdf --content-type application/pdf --content-length 10 --json",
    ])
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"s3://{OUTPUTS['bucketName']}/a.txt" in result.stderr
    assert f"http://127.0.0.1:9/{OUTPUTS['bucketName']}/T001/docs/2026/01/02/a.pdf?" in result.stdout
    assert OUTPUTS["kmsKeyArn"] in result.stdout
