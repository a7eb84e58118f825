"""What AWS would actually enforce, read from a stack: the one policy per bucket, key and
topic that wins, this stack's account, and which buckets hold workload data.

AWS keeps one bucket policy per bucket, one key policy per key and one topic policy per
topic; a second policy resource for the same target silently replaces the first. Rules
that read "the" policy read ``effective_*`` (the last one the program registers, which is
what a deployment would leave in place) and ``one-resource-policy-per-target`` reports the
duplicates themselves.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Optional

from . import iam_engine as engine
from .common import UNKNOWN, UnparseablePolicy, is_unknown, load_document, statements
from .joins import BUCKET_TYPES, POLICY, Node, StackIndex

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
IDENTITY_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ROLE = "aws:iam/role:Role"
_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:(\d{12}):")


class _Unparseable:
    def __repr__(self) -> str:
        return "<unparseable policy>"


UNPARSEABLE = _Unparseable()
"""A policy that is neither JSON nor a mapping: nothing it says can be verified."""


def parse(raw: Any) -> Any:
    """A policy document, ``None`` when absent, ``UNKNOWN`` when not known yet,
    ``UNPARSEABLE`` when it cannot be read."""
    try:
        return load_document(raw)
    except UnparseablePolicy:
        return UNPARSEABLE


def own_account(index: StackIndex, configured: Optional[str] = None) -> Optional[str]:
    """This stack's account: the configured ``accountId``, else the account most of the
    stack's own resource ARNs carry (roles, keys, topics, trails)."""
    if configured:
        return configured
    counts: Counter[str] = Counter()
    for node in index.nodes:
        arn = node.props.get("arn")
        if isinstance(arn, str) and not is_unknown(arn):
            match = _ACCOUNT_IN_ARN.match(arn)
            if match:
                counts[match.group(1)] += 1
    return counts.most_common(1)[0][0] if counts else None


def _target_of(index: StackIndex, node: Node, key: str, candidates: list[Node]) -> Optional[Node]:
    value = node.props.get(key)
    if isinstance(value, str) and value and not is_unknown(value):
        for candidate in candidates:
            ids = {candidate.props.get(k) for k in ("id", "arn", "keyId", "name")}
            if value in ids:
                return candidate
        return None
    for urn in node.property_dependencies.get(key, []):
        found = index.by_urn.get(urn)
        if found is not None and found in candidates:
            return found
    return None


def policy_writers(index: StackIndex) -> list[tuple[Node, str, list[Node]]]:
    """``(target, kind, resources writing its resource policy)`` for every bucket, key and
    topic, in registration order (inline policy first, then the separate resources)."""
    out: list[tuple[Node, str, list[Node]]] = []
    for bucket in index.buckets:
        writers = [bucket] if bucket.props.get("policy") else []
        out.append((bucket, "bucket policy", writers + index.settings_of(bucket, POLICY)))
    keys = index.of_type(KEY)
    key_policies = index.of_type(KEY_POLICY)
    for key in keys:
        writers = [key] if key.props.get("policy") else []
        writers += [p for p in key_policies if _target_of(index, p, "keyId", [key]) is key]
        out.append((key, "key policy", writers))
    topics = index.of_type(TOPIC)
    topic_policies = index.of_type(TOPIC_POLICY)
    for topic in topics:
        writers = [topic] if topic.props.get("policy") else []
        writers += [p for p in topic_policies if _target_of(index, p, "arn", [topic]) is topic]
        out.append((topic, "topic policy", writers))
    return out


def effective_policy(index: StackIndex, target: Node) -> tuple[Any, Optional[Node]]:
    """``(document, the resource it comes from)`` of the policy AWS would keep for
    ``target`` (the last writer); ``(None, None)`` when it has none."""
    for node, _, writers in policy_writers(index):
        if node is target:
            if not writers:
                return None, None
            return parse(writers[-1].props.get("policy")), writers[-1]
    return None, None


def identity_documents(index: StackIndex) -> list[tuple[Node, str, Any]]:
    """``(resource, label, document)`` for every identity policy in the stack."""
    found: list[tuple[Node, str, Any]] = []
    for node in index.of_type(*IDENTITY_POLICY_TYPES):
        found.append((node, "policy", parse(node.props.get("policy"))))
    for role in index.of_type(ROLE):
        for inline in role.props.get("inlinePolicies") or []:
            if isinstance(inline, dict) and inline.get("policy"):
                found.append((role, f"inline policy {inline.get('name')!r}", parse(inline.get("policy"))))
    return found


def bucket_arn(bucket: Node) -> Optional[str]:
    arn = bucket.props.get("arn")
    if isinstance(arn, str) and not is_unknown(arn):
        return arn
    name = bucket.props.get("bucket")
    return f"arn:aws:s3:::{name}" if isinstance(name, str) and not is_unknown(name) else None


def data_buckets(index: StackIndex) -> list[Node]:
    """Buckets the stack's workloads write objects to (an identity policy in the stack
    allows s3:PutObject on one of its keys): the buckets that hold tenants' data."""
    writable: list[Node] = []
    documents = [d for _, _, d in identity_documents(index) if isinstance(d, dict)]
    for bucket in index.buckets:
        arn = bucket_arn(bucket)
        if not arn:
            continue
        probe = f"{arn}/probe/key"
        for document in documents:
            if any(_grants_put(s, probe) for s in statements(document) if s.get("Effect") == "Allow"):
                writable.append(bucket)
                break
    return writable


def _grants_put(statement: dict, resource: str) -> bool:
    """Action and resource only (conditions narrow who, not which bucket); the resource must
    name the bucket itself (``*`` and bucket-name wildcards are iam-no-broad-write's
    finding, not a sign of which bucket holds data); a policy variable matches any key."""
    if "Action" not in statement and "NotAction" not in statement:
        return False
    if not engine._action_matches(statement, "s3:PutObject"):
        return False
    if "Resource" not in statement:
        return False
    patterns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    bucket = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    return any(isinstance(p, str) and p.startswith(f"arn:aws:s3:::{bucket}/")
               and engine._like(re.sub(r"\$\{[^}]+\}", "*", p), resource) for p in patterns)


def tenant_tag_keys(index: StackIndex, bucket: Node) -> set[str]:
    """Principal-tag keys that identity policies use to confine sessions inside ``bucket``
    (``arn:aws:s3:::bucket/${aws:PrincipalTag/tenant_id}/*``)."""
    arn = bucket_arn(bucket)
    keys: set[str] = set()
    if not arn:
        return keys
    for _, _, document in identity_documents(index):
        for statement in statements(document):
            for resource in statement.get("Resource") if isinstance(statement.get("Resource"), list) \
                    else [statement.get("Resource")]:
                if isinstance(resource, str) and resource.startswith(arn + "/"):
                    keys.update(re.findall(r"\$\{aws:PrincipalTag/([^}]+)\}", resource))
    return keys


def all_resource_policies(index: StackIndex) -> Iterable[tuple[Node, str, Any]]:
    """``(resource, what, document)``: effective bucket/key/topic policies and role trusts."""
    for target, kind, writers in policy_writers(index):
        if writers:
            yield writers[-1], kind, parse(writers[-1].props.get("policy"))
    for role in index.of_type(ROLE):
        yield role, "trust policy", parse(role.props.get("assumeRolePolicy"))
