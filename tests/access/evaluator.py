"""The IAM evaluator the tests use is the policy pack's own engine (one reading of IAM in
the project): this module only re-exports ``policies.rules.iam_engine`` so that
``from access.evaluator import Caller, Check, authorize`` keeps working."""

from policies.rules.iam_engine import *  # noqa: F401,F403
from policies.rules.iam_engine import _condition_matches, _principal_match, statement_applies  # noqa: F401
