"""Fixtures of the tenant lifecycle tests: a versioned bucket in moto's in-process mock.

moto is the functional S3 here (versions, delete markers, uploads, Object Lock refusals); it
is never the witness of an access property (the IAM engine is: tests/access).
"""

from __future__ import annotations

import itertools
import os

import pytest

REGION = "us-east-1"
_names = itertools.count(1)


@pytest.fixture
def s3(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3

        yield boto3.client("s3", region_name=REGION)


@pytest.fixture
def bucket(s3):
    name = f"tenants-{next(_names)}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    os.makedirs(path)
    return path
