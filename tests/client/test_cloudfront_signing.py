"""CloudFront signed URLs and cookies: identical to botocore's CloudFrontSigner, verifiable
with the public key, tenant-bound. Keys are generated at run time; none is committed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from botocore.signers import CloudFrontSigner as BotocoreCloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from securestore.cloudfront import CloudFrontSigner, build_policy
from securestore.keys import build_key

DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)
RANDOM_CASES = 200


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(rsa_key) -> bytes:
    return rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


@pytest.fixture
def signer(pem) -> CloudFrontSigner:
    """A signer for a distribution with IPv6 off (so IP-restricted policies may be compared)."""
    return CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN, clock=lambda: NOW,
                            distribution_ipv6=False)


@pytest.fixture
def botocore_signer(rsa_key) -> BotocoreCloudFrontSigner:
    return BotocoreCloudFrontSigner(KEY_PAIR_ID, lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA1()))


def url_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_canned_and_custom_urls_identical_to_botocore(signer, botocore_signer):
    """200 random URLs, expiries, start times and IP ranges: same URL as botocore's signer."""
    rng = random.Random(11)
    for i in range(RANDOM_CASES):
        url = f"https://{DOMAIN}/T{rng.randint(1, 999):03d}/drawings/2026/05/04/part%20{i}.pdf"
        if rng.random() < 0.3:
            url += f"?v={rng.randint(1, 9)}"
        expires = NOW + dt.timedelta(seconds=rng.randint(60, 7 * 86400))
        if rng.random() < 0.5:
            assert signer.signed_url(url, expires_at=expires) == botocore_signer.generate_presigned_url(url, date_less_than=expires)
            continue
        starts = NOW - dt.timedelta(seconds=rng.randint(0, 3600)) if rng.random() < 0.5 else None
        ip = rng.choice((None, "203.0.113.7", "198.51.100.0/24", "10.0.0.0/8"))
        if starts is None and ip is None:
            ip = "192.0.2.0/24"
        policy = botocore_signer.build_policy(url, expires, date_greater_than=starts, ip_address=ip)
        expected = botocore_signer.generate_presigned_url(url, policy=policy)
        assert signer.signed_url(url, expires_at=expires, starts_at=starts, ip_range=ip) == expected


def test_custom_wildcard_policy_identical_to_botocore(signer, botocore_signer):
    resource = f"https://{DOMAIN}/T001/*"
    url = f"https://{DOMAIN}/T001/uploads/2026/05/04/a.pdf"
    expires = NOW + dt.timedelta(hours=1)
    policy = botocore_signer.build_policy(resource, expires)
    assert signer.signed_url(url, expires_at=expires, policy_resource=resource) == \
        botocore_signer.generate_presigned_url(url, policy=policy)


def test_signature_verifies_with_the_public_key_sha1(signer, rsa_key):
    url = signer.signed_url(f"https://{DOMAIN}/T001/a.pdf", expires_in=600)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["Expires"] == str(int((NOW + dt.timedelta(minutes=10)).timestamp()))
    assert "Hash-Algorithm" not in query
    policy = build_policy(f"https://{DOMAIN}/T001/a.pdf", NOW + dt.timedelta(minutes=10)).encode()
    rsa_key.public_key().verify(url_b64decode(query["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())


def test_sha256_option_signs_with_sha256_and_says_so(pem, rsa_key):
    """The Developer Guide accepts SHA-256 when the URL carries Hash-Algorithm=SHA256."""
    signer = CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN,
                              hash_algorithm="SHA256", clock=lambda: NOW)
    url = signer.signed_url(f"https://{DOMAIN}/T001/a.pdf", expires_in=600)
    assert url.endswith("&Hash-Algorithm=SHA256")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    policy = build_policy(f"https://{DOMAIN}/T001/a.pdf", NOW + dt.timedelta(minutes=10)).encode()
    signature = url_b64decode(query["Signature"])
    rsa_key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        rsa_key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())
    cookies = signer.tenant_cookies("T001").cookies
    assert cookies["CloudFront-Hash-Algorithm"] == "SHA256"
    with pytest.raises(ValueError, match="hash_algorithm"):
        CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN, hash_algorithm="MD5")


def test_tenant_cookies_cover_the_whole_prefix_with_one_signature(signer, botocore_signer, rsa_key):
    signed = signer.tenant_cookies("T001", expires_in=3600)
    assert set(signed.cookies) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    policy_bytes = url_b64decode(signed.cookies["CloudFront-Policy"])
    policy = json.loads(policy_bytes)
    assert policy["Statement"][0]["Resource"] == f"https://{DOMAIN}/T001/*"
    assert policy["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"] == int(NOW.timestamp()) + 3600
    # Same policy bytes and signature botocore would produce for that resource.
    assert policy_bytes == botocore_signer.build_policy(f"https://{DOMAIN}/T001/*", NOW + dt.timedelta(hours=1)).encode()
    rsa_key.public_key().verify(url_b64decode(signed.cookies["CloudFront-Signature"]), policy_bytes,
                                padding.PKCS1v15(), hashes.SHA1())
    headers = signed.set_cookie_headers()
    assert len(headers) == 3
    assert all("Path=/T001/; Secure; HttpOnly; SameSite=Strict" in h for h in headers)
    assert not any("Expires=" in h.split(";", 1)[1] or "Max-Age" in h for h in headers)


def test_canned_cookies_for_a_single_url(signer):
    cookies = signer.signed_cookies(f"https://{DOMAIN}/T001/a.pdf", expires_in=300).cookies
    assert set(cookies) == {"CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}


def test_tenant_url_refuses_another_tenants_key(signer):
    own = build_key("T001", "drawings", "part 1.pdf", NOW)
    url = signer.tenant_url("T001", own, expires_in=300)
    assert url.startswith(f"https://{DOMAIN}/T001/drawings/2026/05/04/part%201.pdf?Expires=")
    with pytest.raises(ValueError, match="belongs to tenant 'T002'"):
        signer.tenant_url("T001", build_key("T002", "drawings", "x.pdf", NOW))
    with pytest.raises(ValueError):
        signer.tenant_url("T001", "T001/../T002/drawings/2026/05/04/x.pdf")


def test_private_key_is_parsed_once_not_per_signature(pem):
    """Parsing a PEM costs ~100x a signature; the signer must not do it per URL."""
    with mock.patch("cryptography.hazmat.primitives.serialization.load_pem_private_key",
                    wraps=serialization.load_pem_private_key) as load:
        signer = CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN, clock=lambda: NOW)
        for i in range(5):
            signer.signed_url(f"https://{DOMAIN}/T001/{i}.pdf", expires_in=60)
        signer.tenant_cookies("T001")
    assert load.call_count == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_in": 0}, "expires_in"),
        ({"expires_at": NOW - dt.timedelta(seconds=1)}, "in the past"),
        ({"expires_at": dt.datetime(2026, 6, 1)}, "timezone-aware"),
        ({"expires_in": 8 * 86400}, "days ahead"),
        ({"expires_in": 60, "starts_at": NOW + dt.timedelta(hours=1)}, "starts_at"),
        ({"expires_in": 60, "ip_range": "10.0.0.1/8"}, "ip_range"),
        ({"expires_in": 60, "ip_range": "not-an-ip"}, "ip_range"),
        ({"expires_in": 60, "ip_range": "2001:db8::/32"}, "IPv4 ranges only"),
    ],
)
def test_bad_signing_parameters_refused(signer, kwargs, message):
    with pytest.raises(ValueError, match=message):
        signer.signed_url(f"https://{DOMAIN}/T001/a.pdf", **kwargs)


def test_url_on_another_host_refused(signer):
    with pytest.raises(ValueError, match="https URL on"):
        signer.signed_url("https://evil.example.com/T001/a.pdf", expires_in=60)
    with pytest.raises(ValueError, match="https URL on"):
        signer.signed_url(f"http://{DOMAIN}/T001/a.pdf", expires_in=60)


def test_weak_or_non_rsa_keys_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small_pem = small.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    with pytest.raises(ValueError, match="2048"):
        CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=small_pem, domain=DOMAIN)
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="RSA"):
        CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=ec_pem, domain=DOMAIN)
    with pytest.raises(ValueError, match="PEM"):
        CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=b"-----BEGIN nonsense", domain=DOMAIN)
    with pytest.raises(ValueError, match="key_pair_id"):
        CloudFrontSigner(key_pair_id="abc", private_key=small_pem, domain=DOMAIN)


# --- signed scope (issue 22) -------------------------------------------------------------------

@pytest.mark.parametrize("method", ["url", "cookies"])
def test_ip_restriction_is_refused_while_the_distribution_serves_ipv6(pem, method):
    """Attack class: signed scope. CloudFront's IpAddress condition matches IPv4 viewers only
    and AWS advises against IP-restricted policies on an IPv6 distribution: the default signer
    (IPv6 on, as the stack's default cloudfrontIpv6Enabled) refuses an ip_range."""
    default = CloudFrontSigner(key_pair_id=KEY_PAIR_ID, private_key=pem, domain=DOMAIN, clock=lambda: NOW)
    with pytest.raises(ValueError, match="serves IPv6"):
        if method == "url":
            default.signed_url(f"https://{DOMAIN}/T001/a.pdf", expires_in=60, ip_range="203.0.113.7")
        else:
            default.tenant_cookies("T001", expires_in=60, ip_range="203.0.113.7")
    assert "Signature=" in default.signed_url(f"https://{DOMAIN}/T001/a.pdf", expires_in=60)


KEY_CHARS = "ab*?%/ .-_~!$&'()+,;=:@"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=KEY_CHARS, min_size=1, max_size=12).filter(lambda n: "/" not in n and n not in (".", "..")),
       custom=st.sampled_from(["starts_at", "ip_range"]))
def test_no_custom_policy_resource_holds_a_wildcard_from_a_key(signer, name, custom):
    """Attack class: signed scope. For generated file names, a custom-policy URL either is
    refused or its policy Resource has no '*' or '?' (a '*' in a name once became a wildcard
    that opened the tenant's whole day); canned URLs (no policy) always sign."""
    key = f"T001/uploads/2026/05/04/{name}"
    extra = {"starts_at": NOW - dt.timedelta(minutes=1)} if custom == "starts_at" else {"ip_range": "203.0.113.7"}
    assert "Signature=" in signer.tenant_url("T001", key, expires_in=60)
    try:
        url = signer.tenant_url("T001", key, expires_in=60, **extra)
    except ValueError as refused:
        assert "*" in name and "wildcard" in str(refused)
        return
    policy = json.loads(url_b64decode(parse_qs(urlsplit(url).query)["Policy"][0]))
    resource = policy["Statement"][0]["Resource"]
    assert "*" not in resource and "?" not in resource
