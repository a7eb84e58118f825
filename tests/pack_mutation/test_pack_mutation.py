"""Mutation testing of the policy pack on the project's own stacks.

Attack class: a realistic one-detail weakening of a correct resource (a condition that
looks restrictive, a deny that no longer covers everything, a wildcard that expands to
more than it seems) slipping through review. Every mutant must be killed (a mandatory
violation, so ``pulumi preview`` fails) and every secure variant must pass untouched.
"""

from __future__ import annotations

import pytest

from .harness import BrokenMutant, Mutant, run
from .mutants import MUTANTS
from .variants import VARIANTS


def _summary(outcome) -> str:
    return outcome.report.format_text()


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_pack_kills_every_mutant(mutant):
    """The weakened stack fails the pack with a mandatory violation."""
    outcome = run(mutant)
    assert outcome.killed, f"{mutant.id} ({mutant.what}) survived:\n{_summary(outcome)}"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_secure_variants_raise_no_violation(variant):
    """An equivalent or stricter encoding passes the pack without even an advisory."""
    outcome = run(variant)
    assert not outcome.flagged, f"{variant.id} ({variant.what}) was flagged:\n{_summary(outcome)}"


def test_there_are_enough_mutants_and_variants():
    """The issue's floor: at least 40 mutants and 8 secure variants, ids unique."""
    ids = [m.id for m in MUTANTS + VARIANTS]
    assert len(MUTANTS) >= 40 and len(VARIANTS) >= 8 and len(ids) == len(set(ids))


def test_a_mutant_that_changes_nothing_is_refused():
    """A broken mutant is not a kill: one whose edit does not reach the recorded graph
    (here it sets a value to what it already is) makes the harness fail."""
    noop = Mutant("noop", "prod", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                  "storage-data-public-access", "nothing", lambda p: p.update(block_public_acls=True),
                  lambda i: True)
    with pytest.raises(BrokenMutant, match="did not change"):
        run(noop)


def test_a_mutant_that_hits_no_resource_is_refused():
    missing = Mutant("missing", "prod", "aws:s3/bucket:Bucket", "no-such-bucket", "nothing",
                     lambda p: None, lambda i: True)
    with pytest.raises(BrokenMutant, match="hit no resource"):
        run(missing)
