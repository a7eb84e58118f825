"""The command line skips botocore when it can (``transfer/lazy_client.py``, ``endpoint_cache.py``),
and never on a stale answer.

The attack is a stale cache: an input botocore reads changed (an environment variable, the
config file, the endpoint, the region, the bucket) and the remembered endpoint is used anyway,
sending signed requests to where botocore would no longer send them. The inputs are generated
from botocore's own tables of the variables it reads (``configprovider``), not listed here.
The other promises: no secret reaches the file, a remembered answer is used only with the
environment's static keys, and a sync that needs botocore still gets it.

Witness: moto (a functional S3 here; it checks no signature, which this file does not need:
``tests/transfer/test_transfer_put_pipeline.py`` proves the requests equal the threaded path's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from securestore.transfer import endpoint_cache

try:
    from support.transfer_fixtures import CREDENTIALS, moto_endpoint  # noqa: F401 - fixture
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import CREDENTIALS, moto_endpoint  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
INPUTS = {"endpoint_url": "http://127.0.0.1:9000", "region": "eu-west-1", "bucket": "b"}


def _botocore_variables() -> list[str]:
    import botocore.configprovider as provider

    names = set()
    for table in (provider.BOTOCORE_DEFAUT_SESSION_VARIABLES, provider.DEFAULT_S3_CONFIG_VARS,
                  provider.DEFAULT_PROXIES_CONFIG_VARS):
        for entry in table.values():
            found = entry[1]
            if found:
                names.update(found if isinstance(found, (list, tuple)) else [found])
    names.update({"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                  "NO_PROXY", "no_proxy", "ALL_PROXY"})
    return sorted(name for name in names if name not in endpoint_cache.CREDENTIAL_NAMES)


@pytest.mark.parametrize("name", _botocore_variables())
def test_every_variable_botocore_reads_changes_the_key(name, tmp_path):
    base = {"HOME": str(tmp_path), "PATH": "/usr/bin"}
    before = endpoint_cache.fingerprint(INPUTS, base)
    assert endpoint_cache.fingerprint(INPUTS, {**base, name: "1"}) != before, f"{name} set"
    assert endpoint_cache.fingerprint(INPUTS, {**base, name: "2"}) != \
        endpoint_cache.fingerprint(INPUTS, {**base, name: "1"}), f"{name} changed"


@pytest.mark.parametrize("field", sorted(INPUTS))
def test_every_input_of_the_command_changes_the_key(field):
    assert endpoint_cache.fingerprint({**INPUTS, field: INPUTS[field] + "x"}) != endpoint_cache.fingerprint(INPUTS)


@pytest.mark.parametrize("which", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_an_edited_config_file_changes_the_key(tmp_path, which):
    path = tmp_path / "file"
    environ = {"HOME": str(tmp_path), which: str(path)}
    missing = endpoint_cache.fingerprint(INPUTS, environ)
    path.write_text("[default]\nregion = eu-west-1\n")
    written = endpoint_cache.fingerprint(INPUTS, environ)
    path.write_text("[default]\ns3 =\n  addressing_style = virtual\n")
    os.utime(path, ns=(1, 1))
    assert len({missing, written, endpoint_cache.fingerprint(INPUTS, environ)}) == 3


def test_credentials_only_count_as_present():
    with_keys = {"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s1", "AWS_SESSION_TOKEN": "t1"}
    other_keys = {"AWS_ACCESS_KEY_ID": "AKIA2", "AWS_SECRET_ACCESS_KEY": "s2", "AWS_SESSION_TOKEN": "t2"}
    assert endpoint_cache.fingerprint(INPUTS, with_keys) == endpoint_cache.fingerprint(INPUTS, other_keys)
    assert endpoint_cache.fingerprint(INPUTS, with_keys) != endpoint_cache.fingerprint(INPUTS, {})


CHILD = r"""
import json, sys
from securestore.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "botocore_client": "botocore.client" in sys.modules}))
"""


def _sync(tmp_path: Path, endpoint: str, *extra: str, env: dict) -> tuple[dict, dict]:
    done = subprocess.run([sys.executable, "-c", CHILD, "sync", str(tmp_path / "src"), "s3://lazy/p",
                           "--endpoint-url", endpoint, "--region", "us-east-1", "--json",
                           "--checksum-cache", str(tmp_path / "checksums.sqlite3"), *extra],
                          env=env, capture_output=True, text=True, timeout=120)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and len(lines) == 2, done.stderr
    return json.loads(lines[0]), json.loads(lines[1])


@pytest.fixture
def cli_env(tmp_path, moto_endpoint):
    import boto3

    host, port = moto_endpoint
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="a",
                      aws_secret_access_key="b")
    if "lazy" not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket="lazy")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(CREDENTIALS, XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    (tmp_path / "src" / "d").mkdir(parents=True)
    for index in range(20):
        (tmp_path / "src" / "d" / f"f{index}.txt").write_bytes(os.urandom(100 + index))
    return endpoint, env, s3


def test_an_unchanged_sync_runs_without_botocore_and_a_change_of_input_goes_back_to_it(tmp_path, cli_env):
    endpoint, env, s3 = cli_env
    summary, process = _sync(tmp_path, endpoint, env=env)
    assert (summary["copied"], process["botocore_client"]) == (20, True), "the first run must ask botocore"
    cache = (tmp_path / "cache" / "securestore" / "endpoints.json").read_text()
    for secret in (CREDENTIALS["AWS_SECRET_ACCESS_KEY"], CREDENTIALS["AWS_SESSION_TOKEN"]):
        assert f'"{secret}"' not in cache, "a credential reached the endpoint cache"
    assert oct((tmp_path / "cache" / "securestore" / "endpoints.json").stat().st_mode & 0o777) == "0o600"

    summary, process = _sync(tmp_path, endpoint, env=env)
    assert (summary["skipped"], summary["copied"], process["botocore_client"]) == (20, 0, False)

    (tmp_path / "src" / "d" / "f3.txt").write_bytes(b"changed, and a new size")
    (tmp_path / "src" / "d" / "new.txt").write_bytes(b"new")
    summary, process = _sync(tmp_path, endpoint, env=env)
    assert (summary["copied"], summary["skipped"], process["botocore_client"]) == (2, 19, False)
    assert s3.get_object(Bucket="lazy", Key="p/d/f3.txt")["Body"].read() == b"changed, and a new size"

    # a deletion needs botocore (DeleteObjects): the lazy client makes it, the sync goes on
    (tmp_path / "src" / "d" / "new.txt").unlink()
    summary, process = _sync(tmp_path, endpoint, "--delete", env=env)
    assert (summary["deleted"], process["botocore_client"]) == (1, True)
    assert "Contents" not in s3.list_objects_v2(Bucket="lazy", Prefix="p/d/new.txt")

    # any input botocore reads, changed: botocore is asked again
    summary, process = _sync(tmp_path, endpoint, env={**env, "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional"})
    assert process["botocore_client"] is True


@pytest.mark.parametrize("flag", [("--profile", "default"), ("--external-id", "x")])
def test_without_the_environments_own_keys_botocore_always_decides(tmp_path, cli_env, flag):
    endpoint, env, _ = cli_env
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\naws_access_key_id = a\naws_secret_access_key = b\n")
    _sync(tmp_path, endpoint, env=env)
    done = subprocess.run([sys.executable, "-c", CHILD, "sync", str(tmp_path / "src"), "s3://lazy/p",
                           "--endpoint-url", endpoint, "--region", "us-east-1", "--json", *flag,
                           "--checksum-cache", str(tmp_path / "checksums.sqlite3")],
                          env=env, capture_output=True, text=True, timeout=120)
    if flag[0] == "--external-id":
        assert json.loads(done.stdout.strip().splitlines()[-1])["code"] == 2, done.stderr
        assert "--external-id goes with --role-arn" in done.stderr, done.stderr
    else:
        assert json.loads(done.stdout.strip().splitlines()[1])["botocore_client"] is True, done.stderr
