"""Mutation score of the policy pack on the project's own stacks.

Two suites: the hand-written mutants and secure variants (``tests/pack_mutation/mutants.py``,
``variants.py``: the program re-run with one stack transformation), and the generated ones
(``tests/pack_mutation/generate.py``: every statement, condition, principal and destination
of both stacks' graphs weakened, every AWS-managed policy with data access attached to every
role, every exposing or exporting resource added to every store, every evidence and
production switch turned; and every equivalent spelling or stricter variant of every
document). A mutant is killed when the pack reports a mandatory violation; a generated
access mutant that the IAM engine shows changes no access is "inert" and not counted. A
variant is flagged when the pack reports any violation.

``--quick`` runs a deterministic spread (a few hand-written, every 40th generated) and
checks its own correctness (a known-bad mutant is killed, a known-good variant is clean).

Last line: ``pack mutants killed K/N, secure variants flagged F/M``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from pack_mutation.generate import all_generated, must_be_killed, sample  # noqa: E402
from pack_mutation.graph_mutants import REPO as TEST_REPO, mutated  # noqa: E402
from pack_mutation.harness import BrokenMutant, run  # noqa: E402
from pack_mutation.mutants import MUTANTS  # noqa: E402
from pack_mutation.variants import VARIANTS  # noqa: E402
from securestore.offline.policy_runner import check_stack_policies  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a deterministic spread, for CI")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    hand_mutants = sample(MUTANTS, 12) if args.quick else MUTANTS
    hand_variants = sample(VARIANTS, 6) if args.quick else VARIANTS
    weakenings, equivalents = all_generated(("prod",) if args.quick else ("prod", "dev"))
    if args.quick:
        weakenings, equivalents = sample(weakenings, 40), sample(equivalents, 40)

    killed = counted = flagged = inert = 0
    for mutant in hand_mutants:
        try:
            outcome = run(mutant)
        except BrokenMutant as exc:
            print(f"BROKEN    {mutant.id}: {exc}")
            counted += 1
            continue
        counted += 1
        killed += outcome.killed
        rules = sorted({v.policy for v in outcome.report.mandatory})
        print(f"{'killed  ' if outcome.killed else 'SURVIVED'}  hand {mutant.id}: {', '.join(rules) or '-'}")
    for mutant in weakenings:
        graph = mutated(mutant)
        report = check_stack_policies(graph, TEST_REPO)
        if not report.mandatory and not must_be_killed(mutant, graph):
            inert += 1
            print(f"inert     {mutant.id}")
            continue
        counted += 1
        killed += bool(report.mandatory)
        rules = sorted({v.policy for v in report.mandatory})
        print(f"{'killed  ' if report.mandatory else 'SURVIVED'}  {mutant.id}: {', '.join(rules) or '-'}")
    for variant in hand_variants:
        outcome = run(variant)
        flagged += outcome.flagged
        print(f"{'FLAGGED ' if outcome.flagged else 'clean   '}  hand {variant.id}: "
              f"{', '.join(sorted({v.policy for v in outcome.report.violations})) or '-'}")
    for variant in equivalents:
        report = check_stack_policies(mutated(variant), TEST_REPO)
        flagged += bool(report.violations)
        print(f"{'FLAGGED ' if report.violations else 'clean   '}  {variant.id}: "
              f"{', '.join(sorted({v.policy for v in report.violations})) or '-'}")
    variants = len(hand_variants) + len(equivalents)
    print(f"({time.perf_counter() - started:.0f} s; {inert} generated mutants inert: they change no access)")
    print(f"pack mutants killed {killed}/{counted}, secure variants flagged {flagged}/{variants}"
          + (" (quick: a deterministic sample)" if args.quick else ""))
    return 0 if killed == counted and flagged == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
