"""Config validation: every bad value stops the program before a resource exists."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import settings
from components.settings import DEFAULTS, SettingsError, parse
from securestore.offline.engine import ProgramError, evaluate_stack

ROOT = Path(__file__).resolve().parents[2]

# (key, bad value, environment, words the message must contain)
BAD_VALUES = [
    ("transitionToIaDays", -1, "dev", "at least 30"),
    ("noncurrentVersionExpireDays", -5, "dev", "at least 1"),
    ("abortIncompleteMultipartDays", 0, "dev", "at least 1"),
    ("expireAfterDays", -1, "dev", "positive"),
    ("expireAfterDays", 30, "dev", "transitionToIaDays"),
    ("transitionToIaDays", "thirty", "dev", "integer"),
    ("corsAllowedOrigins", ["*"], "dev", "wildcards"),
    ("corsAllowedOrigins", ["https://*.example.com"], "dev", "wildcards"),
    ("corsAllowedOrigins", ["http://app.example.com"], "dev", "https://"),
    ("corsAllowedOrigins", ["http://localhost:3000"], "prod", "prod"),
    ("corsAllowedOrigins", ["https://app.example.com/upload"], "dev", "no path"),
    ("kmsAdminArns", ["arn:aws:iam::1234:role/admin"], "dev", "12-digit"),
    ("kmsAdminArns", ["admin"], "dev", "IAM principal ARNs"),
    ("kmsDeletionWindowDays", 3, "dev", "between 7 and 30"),
    ("sseAlgorithm", "AES256", "dev", "aws:kms"),
    # DSSE-KMS: the clients send aws:kms, which the bucket policy would deny (every upload broken)
    ("sseAlgorithm", "aws:kms:dsse", "dev", "the presigner and the uploader send aws:kms"),
    # brokers are named roles/users: :root would make the whole account choose any tenant
    ("tenantBrokerPrincipalArns", ["arn:aws:iam::123456789012:root"], "dev", "no :root"),
    ("tenantBrokerPrincipalArns", ["arn:aws:iam::123456789012:role/*"], "dev", "no wildcards"),
    ("tenantBrokerPrincipalArns", "arn:aws:iam::123456789012:role/x", "dev", "list of strings"),
    ("environment", "staging", "dev", "dev, prod"),
    ("namePrefix", "Secure_Store", "dev", "lowercase"),
    ("protect", "yes", "dev", "true or false"),
]


def _raw(stack_environment: str, **overrides):
    raw = {"environment": stack_environment}
    if stack_environment == "prod":
        raw.update(protect=True, forceDestroy=False)
    raw.update(overrides)
    return raw


def test_defaults_are_valid():
    """The defaults alone make a valid dev stack."""
    parsed = parse({}, project="securestore", stack="dev")
    assert parsed.storage.lifecycle.transition_to_ia_days == 30
    assert parsed.storage.lifecycle.expire_after_days == 365
    assert parsed.storage.lifecycle.abort_incomplete_multipart_days == 7
    assert parsed.resource_prefix == "securestore-dev"


@pytest.mark.parametrize("key,value,environment,words", BAD_VALUES)
def test_bad_value_names_key_value_and_rule(key, value, environment, words):
    """A bad value fails with the namespaced key, the value and what is allowed."""
    with pytest.raises(SettingsError) as caught:
        parse(_raw(environment, **{key: value}), project="securestore", stack="s")
    message = str(caught.value)
    assert f"securestore:{key}" in message
    shown = value[0] if isinstance(value, list) else value
    assert repr(shown) in message or str(shown) in message
    assert words in message


def test_unknown_key_is_refused_with_the_known_keys():
    """A misspelt key is an error, not silently ignored."""
    with pytest.raises(SettingsError, match="securestore:corsAllowedOrigin .*corsAllowedOrigins"):
        parse({"corsAllowedOrigin": "[]"}, project="securestore", stack="dev")


@pytest.mark.parametrize(
    "overrides,words",
    [({"protect": False}, "protect"), ({"forceDestroy": True}, "forceDestroy")],
)
def test_prod_must_be_protected_and_not_force_destroyed(overrides, words):
    """prod refuses unprotected or force-destroyable storage."""
    with pytest.raises(SettingsError, match=words):
        parse(_raw("prod", **overrides), project="securestore", stack="prod")


def test_string_values_from_the_cli_are_parsed():
    """The Pulumi CLI passes every value as a string; lists arrive as JSON."""
    parsed = parse(
        {
            "transitionToIaDays": "45",
            "forceDestroy": "true",
            "corsAllowedOrigins": '["https://a.example.com"]',
            "kmsAdminArns": '["arn:aws:iam::123456789012:role/kms-admin"]',
        },
        project="securestore",
        stack="dev",
    )
    assert parsed.storage.lifecycle.transition_to_ia_days == 45
    assert parsed.storage.force_destroy is True
    assert parsed.storage.cors_allowed_origins == ("https://a.example.com",)
    assert parsed.key.admin_arns == ("arn:aws:iam::123456789012:role/kms-admin",)


@pytest.mark.parametrize(
    "stack,overrides",
    [
        ("dev", {"transitionToIaDays": -3}),
        ("dev", {"expireAfterDays": 20}),
        ("prod", {"corsAllowedOrigins": ["http://localhost:3000"]}),
        ("dev", {"corsAllowedOrigins": ["*"]}),
        ("dev", {"kmsAdminArns": ["arn:aws:iam::12:role/x"]}),
        ("dev", {"sseAlgorithm": "aws:kms:unknown"}),
        ("dev", {"unexpectedKey": "1"}),
    ],
)
def test_bad_config_registers_zero_resources(stack, overrides):
    """The program fails in settings, before a single resource is registered."""
    with pytest.raises(ProgramError) as caught:
        evaluate_stack(stack, config_overrides=overrides)
    assert isinstance(caught.value.__cause__, SettingsError)
    assert caught.value.graph.resources == []


def test_pulumi_yaml_declares_every_key_with_the_same_default():
    """`pulumi config` users read Pulumi.yaml: it must list what settings reads, same defaults."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(DEFAULTS)
    for key, declaration in declared.items():
        assert declaration.get("description"), f"{key} has no description"
        assert declaration.get("type") in ("string", "integer", "boolean", "array"), key
        assert declaration["default"] == DEFAULTS[key], key


def test_stack_files_only_use_known_keys():
    """Every securestore:* key in a stack file is one the program reads."""
    for path in ROOT.glob("Pulumi.*.yaml"):
        keys = yaml.safe_load(path.read_text())["config"]
        ours = {k.split(":", 1)[1] for k in keys if k.startswith("securestore:")}
        assert ours <= set(DEFAULTS), f"{path.name}: {ours - set(DEFAULTS)}"


def test_dev_and_prod_differ_where_a_user_expects(graphs):
    """dev is destroyable with a localhost origin; prod is protected with https origins only."""
    dev, prod = graphs["dev"].config, graphs["prod"].config
    assert dev["forceDestroy"] == "true" and prod["forceDestroy"] == "false"
    assert dev["protect"] == "false" and prod["protect"] == "true"
    assert "http://localhost:3000" in dev["corsAllowedOrigins"]
    assert "http://" not in prod["corsAllowedOrigins"]
    assert int(dev["kmsDeletionWindowDays"]) < int(prod["kmsDeletionWindowDays"])


def test_load_reads_only_the_project_namespace():
    """load() takes securestore:* keys and ignores other namespaces such as aws:region."""
    parsed = settings.load(lambda: {"environment": "dev"})
    assert parsed.environment == "dev"
