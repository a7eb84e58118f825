"""Generated mutation testing: weakenings and equivalent variants made from the model of
the project's stacks (``generate.py``), not from a list of examples.

Attack class: any one-step weakening of what the graph contains (a statement, condition,
principal or destination widened or dropped; an AWS-managed policy attached; a resource
that exposes or exports a store added; an evidence or production switch turned) and, the
other way, any re-spelling of a document that keeps its meaning. moto and LocalStack enforce
none of this; the IAM engine judges access (``changes_access``), the class judges the rest.

The default run takes a deterministic spread of each list; ``SECURESTORE_SLOW_TESTS=1`` runs
every member (``bench/pack_mutation.py`` prints the whole score).
"""

from __future__ import annotations

import os

import pytest

from .generate import all_generated, must_be_killed, sample
from .graph_mutants import mutated, report

FULL = os.environ.get("SECURESTORE_SLOW_TESTS") == "1"
WEAKENINGS, EQUIVALENTS = all_generated(("prod", "dev") if FULL else ("prod",))
EVERY = 1 if FULL else 25


@pytest.mark.parametrize("mutant", sample(WEAKENINGS, EVERY), ids=lambda m: m.id)
def test_generated_weakening_is_killed(mutant):
    """A weakening that changes access (engine-judged) or flow/evidence/integrity (by its
    class) fails the pack with a mandatory violation."""
    graph = mutated(mutant)
    from securestore.offline.policy_runner import check_stack_policies

    from .graph_mutants import REPO

    outcome = check_stack_policies(graph, REPO)
    if outcome.mandatory:
        return
    if not must_be_killed(mutant, graph):
        pytest.skip(f"inert: {mutant.what} changes no access the engine can see")
    pytest.fail(f"{mutant.id} ({mutant.what}) survived:\n{outcome.format_text()}")


@pytest.mark.parametrize("variant", sample(EQUIVALENTS, EVERY), ids=lambda m: m.id)
def test_generated_equivalent_passes(variant):
    """An equivalent spelling or a stricter variant raises no violation at all."""
    outcome = report(variant)
    assert not outcome.violations, f"{variant.id} ({variant.what}) was flagged:\n{outcome.format_text()}"


def test_generation_covers_every_class():
    """The generator produced members of every class it promises."""
    ids = " ".join(m.id for m in WEAKENINGS + EQUIVALENTS)
    for marker in ("allow-resource-star", "allow-action-star", "allow-principal-star", "allow-drop-",
                   "deny-drop", "managed-AmazonS3FullAccess", "expose-access-point", "export-replication",
                   "export-subscription", "evidence-retention", "destroy-force", "split-per-action",
                   "account-as-id", "foranyvalue", "stricter-"):
        assert marker in ids, marker
