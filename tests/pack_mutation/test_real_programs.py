"""The pack on public Pulumi programs nobody here wrote: every finding is a reviewed, true
finding (``programs.FINDINGS``), none is a false positive, and service-trust findings that
real services cannot satisfy are advisory.

Attack class, the other way round: a pack that flags correct programs teaches users to turn
rules off. The programs (vendored, Apache-2.0, ``real_programs/NOTICE.md``) run under the
offline engine's mocks, each in its own interpreter.
"""

from __future__ import annotations

import os

import pytest

from .programs import FINDINGS, PROGRAMS, classify, run_isolated

DEFAULT = ("aws-py-s3-folder", "aws-py-static-website", "aws-py-fargate", "aws-py-stepfunctions")
"""A spread the default run takes (each program is a fresh interpreter, ~10 s under load);
``SECURESTORE_SLOW_TESTS=1`` runs all of them (``bench/pack_real_programs.py`` prints the review)."""


@pytest.mark.parametrize("folder", list(PROGRAMS) if os.environ.get("SECURESTORE_SLOW_TESTS") == "1" else DEFAULT)
def test_every_finding_on_a_real_program_is_reviewed_and_true(folder):
    result = run_isolated(folder)
    assert result["resources"] > 0, f"{folder} registered nothing ({result['stopped']})"
    for violation in result["violations"]:
        verdict = classify(folder, violation)
        assert verdict is not None, f"unreviewed finding on {folder}: {violation}"
        assert not verdict.startswith("false"), f"false positive on {folder}: {violation}: {verdict}"
        if violation["policy"] == "iam-service-trust-pinned":
            assert violation["enforcement"] == "advisory"


def test_the_review_table_names_only_rules_of_the_pack():
    from policies.rules import ALL_POLICIES

    names = {p.name for p in ALL_POLICIES}
    assert {rule for _, rule in FINDINGS} <= names
