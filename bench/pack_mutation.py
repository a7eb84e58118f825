"""Mutation score of the policy pack on the project's own stacks.

Runs every mutant of ``tests/pack_mutation/mutants.py`` (a one-detail weakening of a real
resource, applied with ``register_stack_transformation``) and every secure variant through
the offline preview and the pack. A mutant is killed when the pack reports a mandatory
violation; a variant is flagged when the pack reports any violation. A broken mutant (its
change not in the recorded graph) counts as not killed and is listed.

Last line: ``pack mutants killed K/N, secure variants flagged F/M``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from pack_mutation.harness import BrokenMutant, run  # noqa: E402
from pack_mutation.mutants import MUTANTS  # noqa: E402
from pack_mutation.variants import VARIANTS  # noqa: E402


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI: every 16th mutant and every 4th variant "
                        "(each is a full preview; the test suite runs them all)")
    quick = parser.parse_args().quick
    mutants = MUTANTS[::16] if quick else MUTANTS
    variants = VARIANTS[::4] if quick else VARIANTS
    started = time.perf_counter()
    killed = flagged = 0
    for mutant in mutants:
        try:
            outcome = run(mutant)
        except BrokenMutant as exc:
            print(f"BROKEN    {mutant.id}: {exc}")
            continue
        killed += outcome.killed
        rules = sorted({v.policy for v in outcome.report.mandatory})
        print(f"{'killed  ' if outcome.killed else 'SURVIVED'}  {mutant.id}: {', '.join(rules) or '-'}")
    for variant in variants:
        outcome = run(variant)
        flagged += outcome.flagged
        rules = sorted({v.policy for v in outcome.report.violations})
        print(f"{'FLAGGED ' if outcome.flagged else 'clean   '}  {variant.id}: {', '.join(rules) or '-'}")
    print(f"({time.perf_counter() - started:.1f} s)")
    print(f"pack mutants killed {killed}/{len(mutants)}, secure variants flagged {flagged}/{len(variants)}"
          + (f" (quick: a sample of {len(MUTANTS)} and {len(VARIANTS)})" if quick else ""))
    return 0 if killed == len(mutants) and flagged == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
