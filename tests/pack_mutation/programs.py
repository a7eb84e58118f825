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
from typing import Any, Mapping, Optional

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
    "templates-aws-python": {},
    "templates-vm-aws-python": {},
}
"""Folder -> the config the program requires and the asset files it reads."""

_ANY = "*"
FINDINGS: dict[tuple[str, str], str] = {
    (_ANY, "s3-bucket-access-logging"): "true: the bucket has no server access logging (advisory rule)",
    (_ANY, "s3-bucket-versioning-enabled"): "true: no BucketVersioning (advisory rule)",
    (_ANY, "s3-bucket-acls-disabled"): "true: no BucketOwnershipControls BucketOwnerEnforced (or ownership "
                                       "BucketOwnerPreferred / a BucketAcl on it: aws-py-static-website's setup_acl "
                                       "puts the logs ACL on the content bucket)",
    (_ANY, "s3-bucket-default-encryption-kms"): "true: no SSE-KMS default (S3 applies SSE-S3 since 2023; the pack "
                                                "requires a customer key, stricter than AWS's default)",
    (_ANY, "s3-bucket-has-public-access-block"): "true: no BucketPublicAccessBlock names the bucket",
    (_ANY, "s3-bucket-lifecycle-abort-multipart"): "true: no lifecycle rule aborts incomplete uploads",
    (_ANY, "s3-bucket-policy-denies-insecure-transport"): "true: nothing denies aws:SecureTransport=false",
    (_ANY, "s3-bucket-policy-denies-old-tls"): "true: nothing denies s3:TlsVersion < 1.2",
    (_ANY, "s3-bucket-policy-no-public-access"): "true: the website bucket policy allows s3:GetObject to '*' "
                                                 "(deliberately public; publicReadResources declares it)",
    (_ANY, "s3-public-access-block-all-flags"): "true: the program turns the public access block flags off",
    (_ANY, "s3-no-website-hosting"): "true: BucketWebsiteConfiguration serves the bucket over HTTP",
    (_ANY, "model-who-can-reach"): "true: anyone can read the website bucket's objects (Principal '*'); "
                                   "publicRead declares it",
    (_ANY, "cloudfront-custom-origin-https-only"): "true: origin_protocol_policy http-only to the S3 website "
                                                   "endpoint",
    (_ANY, "cloudfront-private-by-default"): "true: the default behaviour serves everything unsigned (a public "
                                             "site; the pack's default allows only public/* unsigned)",
    (_ANY, "cloudfront-tls-minimum-protocol"): "true: no minimum_protocol_version, so CloudFront's SNI default "
                                               "TLSv1 applies",
    (_ANY, "iam-no-broad-write"): "true: logs:*/cloudwatch:* or lambda:InvokeFunction on '*'",
    (_ANY, "iam-no-wildcard-actions"): "true: logs:* and cloudwatch:* in an identity policy",
    (_ANY, "iam-service-trust-pinned"): "advisory: a Lambda/ECS/Step Functions trust without aws:SourceAccount; "
                                        "the service needs iam:PassRole from this account "
                                        "(docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html), "
                                        "AWS's own examples carry no condition",
    (_ANY, "sns-topic-encrypted"): "true: topics without kms_master_key_id",
}
"""``(program or "*", rule) -> classification`` from reviewing each finding on the programs:
``true: <why>`` (the program does what the rule names), ``advisory: <why>``, or
``false: <why>`` (none today). A rule with no entry is an unreviewed finding."""


def classify(folder: str, violation: Mapping[str, Any]) -> Optional[str]:
    rule = violation["policy"]
    return FINDINGS.get((folder, rule)) or FINDINGS.get((_ANY, rule))


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


def run_isolated(folder: str) -> dict:
    """``run`` in a fresh interpreter: programs read module-level provider config
    (``pulumi_aws.config.region``) at import, so each needs its own process."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    code = ("import sys, json; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']\n"
            "from pack_mutation.programs import run\n"
            "graph, report, stopped = run(sys.argv[2])\n"
            "print(json.dumps({'resources': len(graph.resources), 'stopped': stopped, 'violations': ["
            "{'policy': v.policy, 'enforcement': v.enforcement, 'type': v.resource_type, 'name': v.resource_name,"
            " 'problem': v.problem} for v in report.violations]}))")
    done = subprocess.run([sys.executable, "-c", code, str(repo), folder], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{folder}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])
