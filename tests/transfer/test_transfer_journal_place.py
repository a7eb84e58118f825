"""The upload journal lives where it can, says where it is, and never blocks an upload.

Classes:

* **No usable home** (containers): ``HOME`` unset and a uid with no passwd entry, ``HOME``
  that is not a writable directory, an ``XDG_STATE_HOME`` that cannot be created or is relative.
  The journal goes to a private directory of this uid under the temporary directory and every
  message names it. (Before: a traceback from ``Path.home()``, or every multipart upload failing
  on the journal's path with no hint.)
* **A fallback that is not ours**: that temporary directory owned by someone else or open to
  others is refused with a message saying what to pass instead.
* **A corrupt journal** (not UTF-8, not JSON, another format version, empty, cut short): set
  aside as ``<name>.corrupt-<time>`` with a message naming both, and the upload proceeds.
  (Before: a UnicodeDecodeError ended the upload without naming the file, or the journal was
  silently overwritten.)
"""

from __future__ import annotations

import os
import pwd
import tempfile

import pytest

from securestore.transfer import MiB, TransferConfig, upload_file
from securestore.transfer.errors import TemporaryTransferError
from securestore.transfer.resume import default_journal_dir, default_state_path

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )

CONFIG = TransferConfig(part_size=5 * MiB, multipart_threshold=5 * MiB, concurrency=2,
                        backoff_base_seconds=0.01, backoff_max_seconds=0.05, retry_for_seconds=0.3)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The system temporary directory, for this test only."""
    base = tmp_path / "systmp"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    return base


def _no_home(monkeypatch, tmp_path, how: str) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if how == "unset-and-no-passwd-entry":
        monkeypatch.delenv("HOME", raising=False)

        def no_entry(uid):
            raise KeyError(f"getpwuid(): uid not found: {uid}")
        monkeypatch.setattr(pwd, "getpwuid", no_entry)
    elif how == "home-is-a-file":
        home = tmp_path / "home-file"
        home.write_text("not a directory")
        monkeypatch.setenv("HOME", str(home))
    elif how == "state-home-is-a-file":
        blocker = tmp_path / "state-file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
        monkeypatch.setenv("HOME", str(blocker))
    elif how == "state-home-relative":
        monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
        monkeypatch.setenv("HOME", str(tmp_path / "home-file-too"))
        (tmp_path / "home-file-too").write_text("")
    else:
        raise ValueError(how)


NO_HOME = ["unset-and-no-passwd-entry", "home-is-a-file", "state-home-is-a-file", "state-home-relative"]


@pytest.mark.parametrize("how", NO_HOME)
def test_without_a_usable_home_the_journal_goes_to_a_private_temporary_directory_and_is_named(
        tmp_path, private_tmp, monkeypatch, proxy, proxied_client, s3_direct, bucket, how):
    """Class: no usable home. The upload works, and a kept upload's message names the journal."""
    path = random_file(tmp_path, 11 * MiB)
    _no_home(monkeypatch, tmp_path, how)
    expected_dir = private_tmp / f"securestore-{os.getuid()}" / "uploads"
    assert default_journal_dir() == expected_dir
    assert oct(os.stat(expected_dir.parent).st_mode & 0o777) == "0o700"
    proxy.reset(lambda r: "error_500" if r.operation == "UploadPart" and r.part_number == 3 else "forward")
    with pytest.raises(TemporaryTransferError) as caught:
        upload_file(proxied_client, path, bucket, "nohome.bin", config=CONFIG)
    journal = default_state_path(path, bucket, "nohome.bin")
    assert journal.parent == expected_dir and journal.exists()
    assert str(journal) in str(caught.value)
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "nohome.bin", config=CONFIG)
    assert result.resumed_parts == 2 and not journal.exists()


@pytest.mark.parametrize("problem", ["open-to-others", "a-link"])
def test_a_temporary_fallback_that_is_not_private_is_refused_with_what_to_do(
        tmp_path, private_tmp, monkeypatch, problem):
    """Class: a fallback directory someone else could read or plant journals in."""
    _no_home(monkeypatch, tmp_path, "unset-and-no-passwd-entry")
    fallback = private_tmp / f"securestore-{os.getuid()}"
    if problem == "open-to-others":
        fallback.mkdir(mode=0o777)
        os.chmod(fallback, 0o777)
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        fallback.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError) as caught:
        default_journal_dir()
    assert str(fallback) in str(caught.value) and "--state-file" in str(caught.value)


CORRUPTIONS = {
    "not-utf8": b"\xff\xfe\x00garbage\x80\x81",
    "not-json": b"{this is not json\n",
    "another-format": b'{"version": 99, "identity": {}, "upload_id": "x", "created_at": "y"}\n',
    "empty": b"",
    "cut-header": b'{"version": 1, "identity": {"bucket": "b", "key"',
    "header-of-wrong-shape": b'["a", "list"]\n',
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_journal_is_set_aside_with_a_message_and_the_upload_proceeds(
        tmp_path, proxy, proxied_client, s3_direct, bucket, corruption):
    """Class: a journal that cannot be read. Never fatal, never silently overwritten."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "journals" / "upload.state.json"
    state.parent.mkdir()
    state.write_bytes(CORRUPTIONS[corruption])
    lines = []
    result = upload_file(proxied_client, path, bucket, "corrupt.bin", config=CONFIG, state_path=state,
                         notify=lines.append)
    assert result.verified
    aside = [p for p in state.parent.iterdir() if p.name.startswith("upload.state.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == CORRUPTIONS[corruption]
    assert any(str(state) in line and str(aside[0]) in line for line in lines), lines
    assert s3_direct.get_object(Bucket=bucket, Key="corrupt.bin")["Body"].read() == path.read_bytes()
