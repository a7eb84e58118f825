"""``securestore preview``: evaluate a stack offline and print what ``pulumi up`` would create.

Exit status: 0 when the program evaluates (and, once the policy pack reports here, no
mandatory policy is violated), 1 when it does not, 2 for bad arguments or when the ``infra``
extra (Pulumi) is not installed (one line naming it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import options
from .errors import EXIT_FAILED, EXIT_OK, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="evaluate a stack offline (no Pulumi CLI, no AWS account) and print its resource tree",
        description="Run the Pulumi program for one stack under mocks and print the resource "
        "tree, the counts per type and the stack outputs, like `pulumi preview`.",
    )
    parser.add_argument("--stack", "-s", required=True, help="stack name, e.g. dev or prod")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="directory holding Pulumi.yaml (default: the current directory or a parent)",
    )
    parser.add_argument(
        "--policy-pack",
        type=Path,
        default=None,
        help="policy pack directory, as for `pulumi preview --policy-pack` (default: the "
        "project's policies/; e.g. examples/consumer checked with ../../policies)",
    )
    options.JSON.add(parser, help="print the graph as JSON")
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        default=None,
        help="policy config JSON as for `pulumi preview --policy-pack-config` "
        "(default: policies/config/<stack>.json when it exists)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from securestore.infra import MissingInfraExtra, require_infra
    from securestore.offline.gc_pause import collector_paused

    try:
        require_infra("securestore preview")
    except MissingInfraExtra as exc:
        raise UsageError(str(exc)) from None

    with collector_paused():  # one-shot work on a large, long-lived heap (gc_pause.py)
        return _preview(args)


def _preview(args: argparse.Namespace) -> int:
    from securestore.offline.engine import ProgramError, evaluate_stack
    from securestore.offline.project import ProjectError
    from securestore.offline.tree import render_exports, render_summary, render_tree, to_json

    try:
        graph = evaluate_stack(args.stack, project_dir=args.project_dir)
    except ProjectError as exc:
        raise UsageError(str(exc)) from exc
    except ProgramError as exc:
        print(f"securestore preview: the program failed for stack {args.stack!r}:", file=sys.stderr)
        print(f"  {exc.__cause__}", file=sys.stderr)
        print(f"  ({len(exc.graph.resources)} resources were registered before it failed)", file=sys.stderr)
        return EXIT_FAILED

    from securestore.offline.policy_runner import check_stack_policies

    policy_report = check_stack_policies(
        graph, args.project_dir, args.policy_pack_config, pack_dir=args.policy_pack
    )
    exit_code = EXIT_OK if policy_report.passed else EXIT_FAILED
    if args.json:
        print(json.dumps({**to_json(graph), "policy": policy_report.to_dict()},
                         indent=2, sort_keys=True, default=str))
        return exit_code
    print(f"Previewing stack {graph.project}/{graph.stack} offline (mocked engine, no AWS calls)\n")
    print(render_tree(graph))
    print()
    print(render_summary(graph))
    print()
    print(render_exports(graph))
    print()
    print(policy_report.format_text())
    return exit_code
