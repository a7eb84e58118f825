"""Runs the policy pack over public Pulumi Python programs nobody here wrote.

The programs are vendored under ``tests/pack_mutation/real_programs/`` (Apache-2.0, from
pulumi/examples and pulumi/templates, see its NOTICE.md); each runs offline under the
project's mocks in its own interpreter (``programs.run_isolated``) with the pack's default
config, and every finding is printed with its review (``programs.FINDINGS``: true, advisory
or false positive). A program that calls a data source the mocks do not answer, or reads
provider config the mocks do not set, is judged on the resources it registered first (the
line says where it stopped).

``--quick``: three programs, and the run checks itself (no unreviewed finding, no false
positive). Last line: ``real programs: N run, F findings (M mandatory), P false positives, U unreviewed``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from pack_mutation.programs import PROGRAMS, classify, run_isolated  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three programs, self-checking")
    args = parser.parse_args(argv)
    folders = list(PROGRAMS)[:3] if args.quick else list(PROGRAMS)
    total = mandatory = false = unreviewed = 0
    for folder in folders:
        result = run_isolated(folder)
        stopped = f" (stopped: {result['stopped']}; the resources before it are judged)" if result["stopped"] else ""
        print(f"== {folder}: {result['resources']} resources{stopped}")
        for v in sorted(result["violations"], key=lambda v: (v["policy"], v["name"])):
            verdict = classify(folder, v) or "UNREVIEWED"
            total += 1
            mandatory += v["enforcement"] == "mandatory"
            false += verdict.startswith("false")
            unreviewed += verdict == "UNREVIEWED"
            print(f"  [{v['enforcement']}] {v['policy']} on {v['type'].split(':')[-1]} '{v['name']}': "
                  f"{v['problem'][:160]}\n      -> {verdict}")
    print(f"real programs: {len(folders)} run, {total} findings ({mandatory} mandatory), "
          f"{false} false positives, {unreviewed} unreviewed" + (" (quick)" if args.quick else ""))
    return 0 if false == 0 and unreviewed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
