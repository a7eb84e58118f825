"""No message carries private-key material; PEM content is accepted like a path.

Attack/leak class: a secret echoed into logs. Containers usually receive the CloudFront
signing key as PEM *content* in ``SECURESTORE_CF_PRIVATE_KEY``; the CLI used to treat it as
a path and print ``cannot read private key '<the whole PEM>'`` to stderr, where CI and log
shippers keep it. Every failure mode below runs the real CLI in-process and checks that
no 24-character run of the key's base64 body appears in stdout or stderr.
"""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from securestore.cli import main
from securestore.cloudfront import CloudFrontSigner, load_private_key

DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"


def _pem(key, encryption=None) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        encryption or serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def rsa_2048() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _body_runs(pem: str, width: int = 24) -> list[str]:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[i:i + width] for i in range(0, len(body) - width, width // 2)]


def _leaks(text: str, pem: str) -> list[str]:
    flat = re.sub(r"\s", "", text)
    return [run for run in _body_runs(pem) if run in flat]


def _sign_url(monkeypatch, capsys, key_value: str, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("SECURESTORE_CF_PRIVATE_KEY", key_value)
    code = main(["sign-url", "T001", "T001/drawings/2026/01/02/p.pdf", "--domain", DOMAIN,
                 "--key-pair-id", KEY_PAIR_ID, *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_pem_content_in_the_environment_signs(monkeypatch, capsys, rsa_2048):
    """The container pattern works: PEM content in SECURESTORE_CF_PRIVATE_KEY signs a URL."""
    code, output = _sign_url(monkeypatch, capsys, rsa_2048)
    assert code == 0 and "Signature=" in output
    assert _leaks(output, rsa_2048) == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: pem.replace("-----BEGIN PRIVATE KEY-----\n", ""),           # armour lost
        lambda pem: pem.replace("\n", "\\n"),                                    # escaped newlines
        lambda pem: pem[: len(pem) // 2],                                        # truncated
        lambda pem: pem.replace("A", "B", 3),                                    # corrupted
        lambda pem: "".join(pem.splitlines()[1:-1]),                             # bare base64 body
    ],
    ids=["no-armour", "escaped-newlines", "truncated", "corrupted", "bare-body"],
)
def test_unreadable_key_content_is_never_echoed(monkeypatch, capsys, rsa_2048, mangle):
    """Each broken form fails with exit 2 and a message that names the setting, not the key."""
    code, output = _sign_url(monkeypatch, capsys, mangle(rsa_2048))
    assert code == 2
    assert "SECURESTORE_CF_PRIVATE_KEY" in output or "private key" in output
    assert _leaks(output, rsa_2048) == []


def test_a_missing_key_file_is_named(monkeypatch, capsys, tmp_path):
    """A path is not a secret: a missing file is named so the user can fix it."""
    missing = str(tmp_path / "nope.pem")
    code, output = _sign_url(monkeypatch, capsys, missing)
    assert code == 2 and missing in output and "No such file" in output


@pytest.mark.parametrize(
    "make",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
        lambda: ec.generate_private_key(ec.SECP256R1()),
    ],
    ids=["rsa-1024", "rsa-3072", "ecdsa-p256"],
)
def test_signer_refuses_keys_cloudfront_will_not_accept(monkeypatch, capsys, make):
    """CloudFront key groups take RSA 2048 only: other sizes/types fail up front, quietly."""
    pem = _pem(make())
    with pytest.raises(ValueError) as caught:
        CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN)
    assert _leaks(str(caught.value), pem) == []
    code, output = _sign_url(monkeypatch, capsys, pem)
    assert code == 2 and _leaks(output, pem) == []


def test_an_encrypted_key_fails_without_quoting_it():
    pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048),
               serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(ValueError) as caught:
        load_private_key(pem)
    assert _leaks(str(caught.value), pem) == [] and "content not shown" in str(caught.value)
