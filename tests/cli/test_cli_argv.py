"""No argv makes the command line print a traceback or exit outside the documented set.

Class of attack: hostile or careless input on the command line (missing, unreadable or
special files, directories where files go, bad numbers and sizes, unknown profiles,
unreachable endpoints, flags glued together at random). Every sub-command is fed random argv
built from its own flags and an adversarial vocabulary; the only allowed outcomes are the
documented exit statuses {0, 1, 2, 75, 130}, and a usage error (2) is exactly one line on
stderr. Runs in-process against a moto S3 server (moto only stores bytes here; it is the
witness of nothing but "the command did not crash").
"""

from __future__ import annotations

import argparse
import io
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hypothesis_profiles import examples

from securestore import cli
from support.transfer_fixtures import moto_endpoint  # noqa: F401 (fixture)

BUCKET = "argv-bucket"


def _leaf_parsers(parser: argparse.ArgumentParser, path=()):
    """(sub-command path, parser) for every runnable sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_parsers(sub, path + (name,))
            return
    yield path, parser


LEAVES = sorted(_leaf_parsers(cli.build_parser()), key=lambda leaf: leaf[0])


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(option for action in parser._actions for option in action.option_strings
                  if option not in ("-h", "--help"))


def test_every_subcommand_is_covered():
    """The property below reaches every sub-command the entry point registers."""
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"upload", "download", "ls", "rm", "env", "key", "presign put", "presign post", "presign get",
            "sign-url", "sign-cookies", "assume", "preview", "tenant erase", "tenant export",
            "tenant usage"} <= names


@pytest.fixture(scope="module")
def playground(moto_endpoint, tmp_path_factory):  # noqa: F811
    import boto3

    host, port = moto_endpoint
    endpoint = f"http://{host}:{port}"
    root = tmp_path_factory.mktemp("argv")
    (root / "file.txt").write_text("hello\n")
    (root / "dir").mkdir()
    (root / "dir" / "a.pdf").write_bytes(b"%PDF-1.7")
    (root / "unreadable").write_text("secret")
    os.chmod(root / "unreadable", 0)
    (root / "outputs.json").write_text('{"bucketName": "argv-bucket", "kmsKeyArn": '
                                       '"arn:aws:kms:eu-central-1:123456789012:key/abc"}')
    (root / "notjson").write_text("{")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="T001/docs/2026/01/02/a.pdf", Body=b"x", ChecksumAlgorithm="SHA256")
    return endpoint, root


VALUES = ["file.txt", "dir", "dir/", "missing.txt", "unreadable", "/dev/null", "-", "", " ", "0", "-1",
          "1", "3", "99999999999999999999", "1.5", "abc", "8MiB", "4KiB", "10XB", "5GiB", "T001", "public",
          "../etc", "a/b", "T001/docs/2026/01/02/a.pdf", "T001/", "docs/", "nope-profile",
          "arn:aws:iam::123456789012:role/x", "not-an-arn", "eu-central-1", "mars",
          "ftp://x", "KEY=VALUE", "=x", "k=\u00e9", "text/plain", "2026-02-30", "2026-01-02",
          "2026-01-02T00:00Z", "123456", "12", "*.pdf", "STANDARD", "json", "dotenv", "outputs.json",
          "notjson", "\u00e9\u00e8", "--", "-x", "nobucket", BUCKET]


def _argv(draw, path, parser):
    flags = _flags(parser)
    tokens = draw(st.lists(st.one_of(st.sampled_from(flags), st.sampled_from(VALUES)), max_size=8))
    return [*path, *tokens]


@st.composite
def argvs(draw):
    path, parser = draw(st.sampled_from(LEAVES))
    return _argv(draw, path, parser)


def _run(argv, stdin_bytes=b"some bytes\n"):
    """(exit status, stderr) of one in-process run; any exception but SystemExit escapes."""
    err, out = io.StringIO(), io.StringIO()
    out.buffer = io.BytesIO()  # download - writes here
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin_bytes))
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, err.getvalue()


@pytest.fixture
def env(playground, monkeypatch):
    endpoint, root = playground
    for name in list(os.environ):
        if name.startswith(("AWS_", "SECURESTORE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(root / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(root / "no-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("SECURESTORE_BUCKET", BUCKET)
    monkeypatch.setenv("SECURESTORE_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/abc")
    monkeypatch.chdir(root)
    return root


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=argvs())
def test_random_argv_never_tracebacks_and_exits_in_the_documented_set(env, argv):
    """Property: any argv -> an exit status in {0, 1, 2, 75, 130}, no traceback; a usage error
    is one line on stderr."""
    if argv[:1] == ["preview"] and any(v in argv for v in ("dev", "prod")):
        return  # a real stack evaluation takes seconds; tests/cli/test_preview_command.py covers it
    code, err = _run(argv)
    assert code in cli.EXIT_STATUSES, (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == cli.EXIT_USAGE:
        assert len(err.strip().splitlines()) == 1, (argv, err)


@pytest.mark.parametrize("argv", [
    ["upload", "file.txt", "--key", "k", "--endpoint-url", "http://127.0.0.1:1", "--retry-for", "1s"],
    ["download", "k", "out", "--endpoint-url", "http://127.0.0.1:1", "--retry-for", "1s"],
    ["ls", "--endpoint-url", "http://127.0.0.1:1"],
    ["rm", "k", "--endpoint-url", "http://127.0.0.1:1"],
])
def test_unreachable_endpoint_is_one_line_and_exit_1(env, argv):
    """Hostile network: nothing listens at the endpoint -> exit 1 (75 where the transfer engine
    calls it temporary: run it again), naming the endpoint, no traceback."""
    code, err = _run(argv)
    assert code in (1, 75), err
    assert "Traceback" not in err and "127.0.0.1:1" in err


@pytest.mark.parametrize(("argv", "flag"), [
    (["upload", "missing.txt", "--key", "k"], "SOURCE 'missing.txt'"),
    (["upload", "dir", "--key", "k/"], "add --recursive"),
    (["upload", "file.txt", "--key", "k", "--part-size", "10XB"], "--part-size"),
    (["upload", "file.txt", "--key", "k", "--part-size", "1KiB"], "--part-size"),
    (["upload", "file.txt", "--key", "k", "--concurrency", "0"], "--concurrency"),
    (["upload", "file.txt", "--key", "k", "--profile", "nope-profile"], "--profile 'nope-profile'"),
    (["upload", "file.txt", "--key", "k", "--region", "mars"], "--region 'mars'"),
    (["upload", "file.txt", "--key", "k", "--mfa-code", "123456", "--role-arn",
      "arn:aws:iam::123456789012:role/x"], "--mfa-code needs --mfa-serial"),
    (["upload", "file.txt", "--key", "k", "--role-arn", "arn:aws:iam::123456789012:role/x",
      "--mfa-serial", "arn:aws:iam::123456789012:mfa/me"], "--mfa-serial needs --mfa-code"),
    (["upload", "file.txt", "--buck", "x", "--key", "k"], "--buck"),
    (["presign", "put", "T001", "uploads", "a", "--content-type", "text/plain", "--file", "missing.txt"], "--file"),
    (["presign", "post", "T001", "cvs", "a", "--content-type", "text/plain", "--max-bytes", "lots"], "--max-bytes"),
    (["download", "T002/x", "out", "--tenant", "T001"], "outside tenant 'T001'"),
    (["rm", "T002/x", "--tenant", "T001"], "outside tenant 'T001'"),
    (["env", "--file", "notjson"], "--file 'notjson'"),
])
def test_bad_input_is_exit_2_with_one_line_naming_the_flag(env, argv, flag):
    """Bad input: exit 2, one line on stderr, naming the flag (not a Python parameter)."""
    code, err = _run(argv)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert flag in err and "Traceback" not in err


def test_version_prints_the_package_version(capsys):
    from importlib.metadata import version

    from securestore.version import DISTRIBUTION

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"securestore {version(DISTRIBUTION)}"


def test_every_argument_has_help_text():
    """Every flag and positional of every sub-command says what it is for."""
    missing = [f"{' '.join(path)} {action.option_strings or action.dest}"
               for path, parser in LEAVES for action in parser._actions
               if not action.help and not isinstance(action, argparse._SubParsersAction)]
    assert missing == []


def test_abbreviated_flags_are_refused():
    """--buck is not --bucket: a prefix that works today would change meaning when a flag is added."""
    for path, parser in LEAVES:
        assert parser.allow_abbrev is False, path
