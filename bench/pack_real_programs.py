"""Runs the policy pack over public Pulumi Python programs nobody here wrote.

The programs are read from git checkouts (or bare mirrors) of pulumi/examples and
pulumi/templates into a temporary directory at run time, so their code is never part of
this repository; each runs offline under the project's mocks (``evaluate_stack``) and the
pack reports on the recorded graph, with the default config and, where given, a config that
declares a deliberately public bucket. Findings are recorded in README (Policy pack).

Usage: python bench/pack_real_programs.py [--quick] EXAMPLES_GIT_DIR TEMPLATES_GIT_DIR
``--quick`` runs the first program only, and without the two checkouts (CI has none: they are
other people's repositories, fetched by hand) says so and exits 0.
Last line: ``real programs: N run, V violations (M mandatory)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from securestore.offline.engine import ProgramError, evaluate_stack  # noqa: E402
from securestore.offline.policy_runner import load_policies, run_policies  # noqa: E402

PROGRAMS = [
    ("examples", "aws-py-s3-folder"),
    ("examples", "aws-py-stepfunctions"),
    ("examples", "aws-py-static-website"),
    ("templates", "static-website-aws-python"),
]
CONFIG = {
    "aws-py-assume-role/create-role": {"unprivilegedUsername": "somebody"},
    "aws-py-static-website": {"targetDomain": "www.acme-files.net", "pathToWebsiteContents": "www",
                              "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/example"},
    "static-website-aws-python": {"path": "./www", "indexDocument": "index.html", "errorDocument": "error.html"},
}


DECLARED = {
    "aws-py-s3-folder": {
        name: {"publicReadResources": ["bucket-policy", "public-access-block", "s3-website"]}
        for name in ("s3-bucket-policy-no-public-access", "s3-public-access-block-all-flags", "s3-no-website-hosting")
    },
}
"""Config declaring a program's deliberately public website bucket (per resource)."""


def _export(git_dir: Path, folder: str, into: Path) -> None:
    """Copy ``folder`` of the repository's HEAD into ``into`` (works on bare mirrors)."""
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "HEAD", folder],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def run_one(git_dir: Path, folder: str, policy_config: dict) -> tuple[object, object, str]:
    with tempfile.TemporaryDirectory() as tmp:
        _export(git_dir, folder, Path(tmp))
        project = Path(tmp) / folder
        name = next(line.split(":", 1)[1].strip() for line in (project / "Pulumi.yaml").read_text().splitlines()
                    if line.startswith("name:"))
        config = {"aws:region": "us-east-1", **{f"{name}:{k}": v for k, v in CONFIG.get(folder, {}).items()}}
        (project / "Pulumi.probe.yaml").write_text("config:\n" + "".join(
            f"  {k}: {json.dumps(v)}\n" for k, v in config.items()))
        cwd = os.getcwd()
        os.chdir(project)  # the programs read ./www relative to their directory, as `pulumi up` runs them
        stopped = ""
        try:
            graph = evaluate_stack("probe", project_dir=project)
        except ProgramError as exc:  # e.g. an invoke the offline mocks do not answer
            graph, stopped = exc.graph, str(exc.__cause__ or exc).splitlines()[0]
        finally:
            os.chdir(cwd)
        pack, policies = load_policies(REPO)
        return graph, run_policies(graph, policies=policies, pack_name=pack, config=policy_config), stopped


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    if quick and len(argv) != 2:
        print("real programs: skipped (needs git checkouts of pulumi/examples and pulumi/templates, "
              "which CI does not have)")
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    roots = {"examples": Path(argv[0]), "templates": Path(argv[1])}
    total = mandatory = 0
    programs = PROGRAMS[:1] if quick else PROGRAMS
    for repo, folder in programs:
        graph, report, stopped = run_one(roots[repo], folder, {})
        total += len(report.violations)
        mandatory += len(report.mandatory)
        print(f"== pulumi/{repo}/{folder}: {len(graph.resources)} resources"
              + (f" (program stopped: {stopped}; the resources before it are judged)" if stopped else ""))
        for v in sorted(report.violations, key=lambda v: (v.policy, v.resource_name)):
            print(f"  [{v.enforcement}] {v.policy} on {v.resource_type.split(':')[-1]} '{v.resource_name}': "
                  f"{v.problem[:220]}")
        if folder in DECLARED:
            _, declared, _ = run_one(roots[repo], folder, DECLARED[folder])
            print(f"   with its public bucket declared (publicReadResources): {len(declared.violations)} "
                  f"violations: {', '.join(sorted({v.policy for v in declared.violations}))}")
    print(f"real programs: {len(programs)} run, {total} violations ({mandatory} mandatory)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
