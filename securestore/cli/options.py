"""The one table of command-line arguments every command draws from.

As in aws-cli's s3 commands (``awscli/customizations/s3/subcommands.py``), each flag is declared
once here, with its type, destination and default help; a command lists the ones it takes
(``options.add(parser, BUCKET, TENANT, JSON)``) and may only reword the help for its own use
(``TENANT.add(parser, help=...)``). A flag that means the same thing is therefore spelled the same
way and parsed the same way everywhere: one ``--tenant``, one ``--bucket``, one ``--json``.

Argument types (sizes, counts, dates, ``KEY=VALUE`` metadata) live here too, so ``upload`` and
``presign`` reject a bad size with the same words.

Nothing here imports boto3, botocore or cryptography: building the parser must stay cheap.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from securestore.transfer.config import (
    CHECKSUM_ALGORITHMS, DEFAULT_CHECKSUM_ALGORITHM, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_PART_SIZE,
    DEFAULT_FIRST_ANSWER_SECONDS, DEFAULT_RETRY_FOR_SECONDS, format_size, parse_size,
)


# ------------------------------------------------------------------ argument types
def size(text: str) -> int:
    """``10MiB``, ``5MB`` or a byte count."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _integer(text: str, minimum: int, wording: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {wording}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}" if minimum else
                                         f"{text!r} must not be negative")
    return value


def count(text: str) -> int:
    """A whole number of at least 1 (parts in flight, attempts)."""
    return _integer(text, 1, "a whole number")


def non_negative_int(text: str) -> int:
    """Seconds and the like: 0 or more."""
    return _integer(text, 0, "an integer")


def iso_date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date {text!r} is not YYYY-MM-DD") from None


def aware_datetime(text: str) -> _dt.datetime:
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    return moment


def metadata_pairs(text: str) -> list[tuple[str, str]]:
    """``KEY=VALUE[,KEY=VALUE...]`` (aws-cli's form) for ``x-amz-meta-KEY``: each key lower-cased
    (S3 stores it so), both ASCII. A comma starts a new pair only when what follows it has an
    ``=``: ``tags=a,b`` is one value, ``a=1,b=2`` two keys."""
    pieces: list[str] = []
    for piece in text.split(","):
        if pieces and "=" not in piece:
            pieces[-1] += "," + piece
        else:
            pieces.append(piece)
    pairs = []
    for piece in pieces:
        name, sep, value = piece.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE[,KEY=VALUE...]")
        if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name):
            raise argparse.ArgumentTypeError(f"metadata key {name!r}: use letters, digits, '-', '_' and '.'")
        if not all(c.isascii() and (c.isprintable()) for c in value):
            raise argparse.ArgumentTypeError(f"metadata value {value!r}: S3 stores printable ASCII only")
        pairs.append((name.lower(), value))
    return pairs


class FilterAction(argparse.Action):
    """--include/--exclude kept in the order given: the last matching filter decides."""

    def __call__(self, parser, namespace, values, option_string=None):
        filters = list(getattr(namespace, "filters", None) or [])
        filters.append((self.const, values))
        namespace.filters = filters


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Option:
    """One argument: its flags and ``add_argument`` keywords, declared once."""

    flags: tuple[str, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: defaults set on the parser with the argument (e.g. ``filters=[]`` for --include)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def add(self, parser: Any, **override: Any) -> argparse.Action:
        """Add to ``parser`` (or an argument group); ``override`` may reword ``help``, set
        ``required``/``default`` or ``metavar`` for this command only."""
        if self.defaults:
            parser.set_defaults(**self.defaults)
        return parser.add_argument(*self.flags, **{**self.kwargs, **override})


def add(parser: Any, *options: Option) -> None:
    """Add each of ``options`` to ``parser`` with its declared help."""
    for option in options:
        option.add(parser)


BUCKET = Option(("--bucket",), {"help": "the bucket (default: $SECURESTORE_BUCKET, from the stack "
                                "output bucketName); an s3://BUCKET/KEY argument names it too"})
TENANT = Option(("--tenant",), {"metavar": "TENANT", "help": "tenant id: only keys under TENANT/; with "
                                "--role-arn also the session tag tenant_id"})
#: the positional form, for commands whose subject is one tenant (``key T001 docs a.pdf``)
TENANT_ARG = Option(("tenant",), {"metavar": "TENANT", "help": "tenant id: the key starts with TENANT/"})
JSON = Option(("--json",), {"action": "store_true", "help": "print JSON on stdout"})
RECURSIVE = Option(("--recursive",), {"action": "store_true",
                                      "help": "every key under the prefix / every file of the directory"})
INCLUDE = Option(("--include",), {"action": FilterAction, "const": "include", "metavar": "PATTERN",
                                  "help": "with --recursive: include paths matching this glob (applied in "
                                  "order with --exclude)"}, {"filters": []})
EXCLUDE = Option(("--exclude",), {"action": FilterAction, "const": "exclude", "metavar": "PATTERN",
                                  "help": "with --recursive: exclude paths matching this glob, e.g. '*.tmp'"},
                 {"filters": []})
DRYRUN = Option(("--dryrun",), {"action": "store_true", "help": "print what would be done; do nothing"})
QUIET = Option(("--quiet",), {"action": "store_true", "help": "print nothing but errors (and --json)"})
DATE = Option(("--date",), {"type": iso_date, "default": None, "help": "YYYY-MM-DD in the key (default: today, UTC)"})
KMS_KEY_ID = Option(("--sse-kms-key-id", "--kms-key-id"), {
    "dest": "kms_key_id", "metavar": "KEY_ID",
    "help": "KMS key id or ARN for SSE-KMS (default: $SECURESTORE_KMS_KEY_ID, from the stack output kmsKeyArn)"})
METADATA = Option(("--metadata",), {"type": metadata_pairs, "action": "extend", "metavar": "KEY=VALUE[,...]",
                                    "help": "user metadata x-amz-meta-KEY: a=1,b=2 (as aws s3 cp) or the "
                                    "flag repeated"})
CONTENT_TYPE = Option(("--content-type",), {"help": "Content-Type stored with the object"})

REGION = Option(("--region",), {"help": "AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, then the "
                                "profile's region)"})
PROFILE = Option(("--profile",), {"help": "AWS profile from ~/.aws/config (default: $AWS_PROFILE)"})
ENDPOINT_URL = Option(("--endpoint-url",), {"help": "S3 endpoint, e.g. LocalStack (default: "
                                            "$SECURESTORE_S3_ENDPOINT_URL, $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)"})
ROLE_ARN = Option(("--role-arn",), {"help": "assume this IAM role first, e.g. the stack output uploaderRoleArn "
                                    "(default: $SECURESTORE_ROLE_ARN)"})
EXTERNAL_ID = Option(("--external-id",), {"help": "sts:ExternalId the role's trust requires (config "
                                          "uploaderExternalId)"})
MFA_SERIAL = Option(("--mfa-serial",), {"help": "ARN of your MFA device, when the role requires MFA"})
MFA_CODE = Option(("--mfa-code",), {"help": "current 6-digit MFA code (asked for on the terminal when "
                                    "--mfa-serial is given without it)"})

PART_SIZE = Option(("--part-size",), {"type": size, "default": DEFAULT_PART_SIZE, "metavar": "SIZE",
                                      "help": "part size, at least 5MiB; grown automatically to stay within "
                                      f"10,000 parts (default {format_size(DEFAULT_PART_SIZE)})"})
CONCURRENCY = Option(("--concurrency",), {"type": count, "default": DEFAULT_CONCURRENCY, "metavar": "N",
                                          "help": "parts (or small files) in flight at once; memory is about "
                                          "concurrency × part size (default %(default)s)"})
MAX_ATTEMPTS = Option(("--max-attempts",), {"type": count, "default": DEFAULT_MAX_ATTEMPTS, "metavar": "N",
                                            "help": "at most this many tries per request on 5xx or dropped "
                                            "connections (default: no count limit, --retry-for bounds retries)"})
RETRY_FOR = Option(("--retry-for",), {"default": f"{DEFAULT_RETRY_FOR_SECONDS:g}s", "metavar": "DURATION",
                                      "help": "keep retrying a request that fails on a transient cause (network, "
                                      "5xx, throttling) for this long, e.g. 90s, 5m (default %(default)s); then "
                                      "stop, keeping the upload resumable (exit 75)"})
FIRST_ANSWER_TIMEOUT = Option(("--first-answer-timeout",), {
    "default": f"{DEFAULT_FIRST_ANSWER_SECONDS:g}s", "metavar": "DURATION",
    "help": "an endpoint that has not answered once (a typo, a wrong region, no route) fails after "
    "this long, e.g. 5s (default %(default)s); after a first answer, --retry-for applies (exit 1)"})
CHECKSUM = Option(("--checksum",), {"choices": CHECKSUM_ALGORITHMS, "default": DEFAULT_CHECKSUM_ALGORITHM,
                                    "help": "checksum algorithm for every part (default %(default)s)"})
EXPIRES_IN = Option(("--expires-in",), {"type": non_negative_int, "default": 15 * 60, "metavar": "SECONDS",
                                        "help": "lifetime in seconds (default %(default)s)"})
NO_PROGRESS = Option(("--no-progress",), {"action": "store_true", "help": "no progress bar (still the summary)"})


def add_aws(parser: argparse.ArgumentParser, *, role: bool = True, endpoint: bool = True) -> None:
    """--region, --profile, --endpoint-url and (with ``role``) the STS role flags, in one group."""
    group = parser.add_argument_group("AWS")
    add(group, REGION, PROFILE)
    if endpoint:
        ENDPOINT_URL.add(group)
    if role:
        add(group, ROLE_ARN, EXTERNAL_ID, MFA_SERIAL, MFA_CODE)


def add_transfer_tuning(parser: argparse.ArgumentParser) -> None:
    """Part size, concurrency and retry bounds: the knobs of the transfer engine."""
    add(parser, PART_SIZE, CONCURRENCY, MAX_ATTEMPTS, RETRY_FOR, FIRST_ANSWER_TIMEOUT)


def emit(args: argparse.Namespace, payload: Mapping[str, Any], text_lines: list[str]) -> int:
    """Print ``payload`` as one JSON object with ``--json``, else ``text_lines``; exit 0."""
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print("\n".join(text_lines))
    return 0
