"""Public Pulumi Python programs nobody here wrote, run offline and judged by the pack.

The programs' source is vendored under ``real_programs/`` (Apache-2.0, see its NOTICE.md);
``run`` copies one into a temporary project with a ``Pulumi.yaml``, the stack config it
requires and placeholder asset files, runs it under the offline engine's mocks, and runs
the pack with the default config (a program is not the project's stack: no access model of
its own, no production flag). ``FINDINGS`` is the review of every finding: each is a true
finding (the program really does what the rule names) with the reason, or an advisory the
program cannot avoid; a finding missing from the table fails the test, so a new rule's
findings on real programs are reviewed before it lands.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from policies.rules import ALL_POLICIES, PACK_NAME
from securestore.offline.engine import ProgramError, evaluate_stack
from securestore.offline.graph import StackGraph
from securestore.offline.policy_runner import PolicyReport, run_policies

VENDORED = Path(__file__).resolve().parent / "real_programs"

PROGRAMS: dict[str, dict] = {
    "aws-py-s3-folder": {"files": ["www/index.html", "www/favicon.png"]},
    "aws-py-static-website": {"config": {"targetDomain": "www.acme-files.net", "pathToWebsiteContents": "./www",
                                         "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/example"},
                              "files": ["www/index.html", "www/404.html"]},
    "aws-py-webserver": {},
    "aws-py-fargate": {},
    "aws-py-serverless-raw": {"files": ["app/bin/Debug/netcoreapp3.1/linux-x64/publish/app.dll"]},
    "aws-py-apigateway-lambda-serverless": {"files": ["hello_lambda/hello.py"]},
    "aws-py-stepfunctions": {"files": ["step_hello/hello.py"]},
    "aws-py-secrets-manager": {},
    "aws-py-resources": {},
    "aws-py-assume-role-create-role": {"config": {"unprivilegedUsername": "somebody"}},
    "templates-aws-python": {},
    "templates-vm-aws-python": {},
}
"""Folder -> the config the program requires and the asset files it reads."""

FINDINGS: dict[tuple[str, str], str] = {}
"""``(program, rule) -> classification``: ``true: <why>`` or ``advisory: <why>``; filled in
by the review recorded in ``FINDINGS_REVIEW`` below."""


def _project(folder: str, into: Path) -> Path:
    project = into / folder
    shutil.copytree(VENDORED / folder, project)
    name = folder
    (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    config = {"aws:region": "us-east-1", **{f"{name}:{k}": v for k, v in PROGRAMS[folder].get("config", {}).items()}}
    (project / "Pulumi.probe.yaml").write_text("config:\n" + "".join(
        f"  {k}: {json.dumps(v)}\n" for k, v in config.items()))
    for relative in PROGRAMS[folder].get("files", []):
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("placeholder\n")
    return project


def run(folder: str, config: Optional[dict] = None) -> tuple[StackGraph, PolicyReport, str]:
    """``(graph, report, why the program stopped early or "")``."""
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(folder, Path(tmp))
        cwd = os.getcwd()
        os.chdir(project)  # the programs read ./www etc. relative to their directory, as `pulumi up` runs them
        stopped = ""
        try:
            graph = evaluate_stack("probe", project_dir=project)
        except ProgramError as exc:  # e.g. an invoke the offline mocks do not answer
            graph, stopped = exc.graph, str(exc.__cause__ or exc).splitlines()[0]
        finally:
            os.chdir(cwd)
    return graph, run_policies(graph, policies=ALL_POLICIES, pack_name=PACK_NAME, config=config or {}), stopped
