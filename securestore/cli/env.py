"""``securestore env``: from ``pulumi stack output --json`` to the client's settings, in one step.

``pulumi stack output --json -s prod | securestore env`` prints ``export`` lines (default),
``--format dotenv`` a ``.env`` file for a container, ``--format json`` one flat object for a
secret store. Each variable names the stack output it came from. Every client command reads
these variables (see ``securestore.cli.settings``).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from typing import Any

from .errors import UsageError

#: variable -> (stack output, how the value is derived, what reads it)
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("SECURESTORE_BUCKET", "bucketName", "every S3 command (--bucket)"),
    ("SECURESTORE_KMS_KEY_ID", "kmsKeyArn", "upload and presign put/post (--kms-key-id, --sse-kms-key-id)"),
    ("AWS_REGION", "kmsKeyArn", "every AWS command (--region); the region field of the key ARN"),
    ("SECURESTORE_CF_DOMAIN", "distributionDomainName", "sign-url, sign-cookies (--domain)"),
    ("SECURESTORE_CF_KEY_PAIR_ID", "cloudfrontPublicKeyId", "sign-url, sign-cookies (--key-pair-id)"),
    ("SECURESTORE_UPLOADER_ROLE_ARN", "uploaderRoleArn", "upload --role-arn \"$SECURESTORE_UPLOADER_ROLE_ARN\""),
    ("SECURESTORE_TENANT_ROLE_ARN", "tenantRoleArn", "assume \"$SECURESTORE_TENANT_ROLE_ARN\" --tenant T"),
    ("SECURESTORE_OFFBOARDING_ROLE_ARN", "offboardingRoleArn",
     "tenant erase|export|usage --role-arn \"$SECURESTORE_OFFBOARDING_ROLE_ARN\" --mfa-serial ..."),
    ("SECURESTORE_INVENTORY_URL", "inventoryDestination", "tenant usage (--inventory)"),
)
NOT_AN_OUTPUT = ("SECURESTORE_CF_PRIVATE_KEY", "path to the CloudFront signer's private key: a secret you "
                 "keep, never a stack output")
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_outputs(args: argparse.Namespace) -> dict[str, Any]:
    source = args.file or "-"
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("pipe the outputs in (`pulumi stack output --json -s prod | securestore env`) "
                         "or pass --file outputs.json")
        text, where = sys.stdin.read(), "stdin"
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--file {source!r}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
        where = f"--file {source!r}"
    try:
        outputs = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not the JSON of `pulumi stack output --json` ({exc})") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"{where} is not a JSON object of stack outputs (got {type(outputs).__name__})")
    return outputs


def settings_from_outputs(outputs: dict[str, Any]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """([(variable, value, output)], [warnings]) in a fixed order."""
    found: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    for variable, output, _ in VARIABLES:
        value = outputs.get(output)
        if value is None:
            warnings.append(f"{variable}: stack output {output!r} is missing")
            continue
        if not isinstance(value, str) or value == "[secret]":
            warnings.append(f"{variable}: stack output {output!r} is not a plain string "
                            "(secret? run `pulumi stack output --json --show-secrets`)")
            continue
        if variable == "AWS_REGION":
            match = _ARN_REGION.match(value)
            if not match:
                warnings.append(f"AWS_REGION: stack output {output!r} = {value!r} is not a KMS key ARN")
                continue
            value = match.group(1)
        if "\n" in value or "\x00" in value:
            warnings.append(f"{variable}: stack output {output!r} contains a newline or NUL; left out")
            continue
        found.append((variable, value, output))
    return found, warnings


def _dotenv_value(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+,=-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def render(found: list[tuple[str, str, str]], form: str) -> str:
    if form == "json":
        return json.dumps({variable: value for variable, value, _ in found}, indent=2, sort_keys=False)
    lines = []
    for variable, value, output in found:
        if form == "shell":
            lines.append(f"export {variable}={shlex.quote(value)}  # from stack output {output}")
        else:
            lines.append(f"# from stack output {output}")
            lines.append(f"{variable}={_dotenv_value(value)}")
    name, why = NOT_AN_OUTPUT
    lines.append(f"# {name}: {why}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    found, warnings = settings_from_outputs(read_outputs(args))
    for warning in warnings:
        print(f"securestore env: warning: {warning}", file=sys.stderr)
    if not found:
        raise UsageError("no client setting found in the outputs (expected bucketName, kmsKeyArn, ...)")
    print(render(found, args.format))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    table = "\n".join(f"  {variable:<30} <- {output:<24} {reader}" for variable, output, reader in VARIABLES)
    parser = subparsers.add_parser(
        "env", help="print the client's settings from `pulumi stack output --json`",
        description="Read the stack outputs (`pulumi stack output --json -s prod | securestore env`) "
        "and print the SECURESTORE_* settings every client command reads, each with the output it "
        "came from.",
        epilog="variables:\n" + table + f"\n  {NOT_AN_OUTPUT[0]:<30} (not an output: {NOT_AN_OUTPUT[1]})",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", help="stack outputs JSON file (default: stdin)")
    parser.add_argument("--format", choices=("shell", "dotenv", "json"), default="shell",
                        help="shell: export lines for `eval`/`source` (default); dotenv: a .env file "
                        "for a container; json: one flat object for a secret store")
    parser.set_defaults(handler=run)
