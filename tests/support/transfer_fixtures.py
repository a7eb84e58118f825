"""Fixtures for the transfer tests: moto's threaded server, the fault proxy, clients, files.

Import the fixtures into a test module (``from support.transfer_fixtures import *``); pytest
then finds them there. moto is only the functional S3 here (it stores bytes and computes
composite checksums); it is never the witness of a security property.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid

import pytest

from .fault_proxy import FaultProxy

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
_names = itertools.count(1)


@pytest.fixture(scope="module")
def moto_endpoint():
    """``(host, port)`` of an in-process moto S3 server on loopback."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server.get_host_and_port()
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return dict(CREDENTIALS)


@pytest.fixture
def session(aws_env):
    import boto3

    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name=REGION)


@pytest.fixture
def s3_direct(moto_endpoint, session):
    """A plain client straight to moto, for setting up and inspecting (never through the proxy)."""
    host, port = moto_endpoint
    return session.client("s3", endpoint_url=f"http://{host}:{port}", region_name=REGION)


@pytest.fixture
def bucket(s3_direct):
    name = f"transfer-{next(_names)}-{uuid.uuid4().hex[:8]}"
    s3_direct.create_bucket(Bucket=name)
    s3_direct.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def proxy(moto_endpoint):
    host, port = moto_endpoint
    fault_proxy = FaultProxy(host, port).start()
    try:
        yield fault_proxy
    finally:
        fault_proxy.stop()


@pytest.fixture
def proxied_client(proxy, session):
    """Our tuned transfer client, pointed at the fault proxy."""
    from securestore.transfer import make_s3_client

    return make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=4)


def random_file(directory, size: int, name: str = "payload.bin"):
    path = directory / name
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            chunk = min(remaining, 4 << 20)
            handle.write(os.urandom(chunk))
            remaining -= chunk
    return path


def open_multipart_uploads(s3, bucket: str) -> list:
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def interruptible_by_ctrl_c() -> None:
    """``preexec_fn`` for a CLI child that a test will send SIGINT, as a terminal's Ctrl-C would.

    A shell starts background jobs (``pytest ... &``, ``nohup``) with SIGINT ignored, and an
    ignored disposition survives ``exec``: the child Python then keeps ignoring SIGINT (as
    it should: it was started not to be interrupted) and a Ctrl-C test hangs for reasons that
    have nothing to do with the code under test. The child gets the default disposition back,
    which is what it has when a user runs it in a terminal.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
