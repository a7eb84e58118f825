"""``pulumi new <repository>`` asks every question a working stack needs (Pulumi.yaml ``template:``).

Attack class: a starting point that deploys something other than what the user meant. A
required key the template does not ask for leaves the new stack failing on its first
``pulumi up`` (prod) or silently running on a default the user never saw (who may assume
the uploader role, which origins may upload).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
TEMPLATE = PROJECT["template"]["config"]
PROD_VALUES = {
    key.split(":", 1)[1]: value
    for key, value in yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"].items()
    if key.startswith(f"{settings.NAMESPACE}:")
}
IDENTITY_KEYS = {"namePrefix", "corsAllowedOrigins", "cloudfrontPublicKeyPem", "uploaderTrustedPrincipalArns"}
"""Whose values are the user's alone: names, who may upload, from where, with which signer."""


def _keys_prod_requires() -> set[str]:
    """Keys the settings module refuses to leave at their default in prod, found by asking
    it: parse, note the key it names, fill in the prod stack's value, repeat until it passes."""
    raw: dict[str, object] = {"environment": "prod"}
    named = {"environment"}
    for _ in range(len(settings.DEFAULTS)):
        try:
            settings.parse(raw, project="securestore", stack="prod")
            return named
        except settings.SettingsError as exc:
            key = exc.key.split(":", 1)[1]
            assert key not in raw, f"the prod stack's own {key} is refused: {exc}"
            named.add(key)
            raw[key] = PROD_VALUES[key]
    raise AssertionError("settings kept refusing keys")


def test_every_key_prod_requires_is_prompted_for():
    """Promise: each key without which a prod stack cannot start is a template question."""
    required = _keys_prod_requires()
    assert {"cloudfrontPublicKeyPem", "uploaderExternalId", "protect"} <= required
    missing = sorted(required - set(TEMPLATE))
    assert not missing, f"pulumi new would not ask for {missing}"


def test_every_key_only_the_user_can_answer_is_prompted_for():
    """Promise: name prefix, CORS origins, signer public key, uploader principals and region
    are asked, never silently defaulted."""
    assert IDENTITY_KEYS | {"aws:region"} <= set(TEMPLATE)


@pytest.mark.parametrize("key", sorted(TEMPLATE))
def test_each_question_is_a_described_key_the_program_reads(key: str):
    """Promise: a question has a description and answers a key the program reads (a typo
    here would write a key settings then refuses as unknown)."""
    assert TEMPLATE[key]["description"].strip()
    assert key.startswith("aws:") or key in settings.DEFAULTS


def test_accepting_every_default_starts_a_valid_dev_stack():
    """Promise: pressing enter through `pulumi new` gives config the settings accept."""
    raw = {k: v["default"] for k, v in TEMPLATE.items() if not k.startswith("aws:")}
    parsed = settings.parse(raw, project="securestore", stack="dev")
    assert parsed.environment == "dev"
