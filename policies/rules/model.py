"""The security model of a program's graph: its stores, the principals that can reach them,
and what each principal can do to each store, all read with the one IAM engine.

The five analyses (``reach``, ``flow``, ``evidence``, ``destruction``, ``encoding``) ask
this model questions instead of matching the shape of one property, so a weakening of a
kind nobody described still shows as a change of who can do what.

* **Stores**: every resource that holds data or evidence and has (or could have) a
  resource policy: buckets (bucket-level, any object, each literal key prefix the graph
  names, and a tagged session's own prefix), KMS keys, topics, queues, log groups, access
  points, functions (URLs and permissions), secrets, tables.
* **Principals**: the graph's roles and users (identity policies inline, customer-managed
  and AWS-managed by ARN from ``managed``, group policies, permissions boundaries), and the
  standing outsiders: anonymous, a principal of another account (with full permissions in
  its own account), a principal of this account that no policy of the program names, a
  CloudFront distribution that is not the program's, and each AWS service acting for
  another account. Role trust chains are followed: whoever can assume a role (and with
  which session tags) reaches what the role reaches.
* **Requests** are judged the way an attacker would send them: a condition on a key the
  caller sets (transport, headers, request tags, MFA, external id, prefixes, ...) is one
  the caller satisfies in an Allow and avoids in a Deny ("a deny whose condition the caller
  controls or can omit is no deny"); keys AWS sets from who the caller is (principal ARN,
  account, tags, the calling service's source ARN/account, ``kms:ViaService``) keep their
  real values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

from . import effective, managed
from . import iam_engine as engine
from .common import UNKNOWN, as_list, is_unknown, statements
from .joins import Node, StackIndex

OTHER_ACCOUNT = "999999999999"
"""The account the "other account" outsider lives in (any account that is not this one)."""
OTHER_DISTRIBUTION = "EOTHERDISTRIBUTION"
UNKNOWN_ACCOUNT = "000000000000"
"""This account when no ARN of the program names it (a program of buckets only): reach is
still judged, with the program's own account standing in as this id."""
ANY_KEY = "zz-another-prefix/zz-any-object"
OWN_TAG_VALUE = "tenant-a"
"""The tag value a tagged session is evaluated with; its "own prefix" is ``tenant-a/``."""

ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
POLICY_TYPE = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
GROUP_MEMBERSHIP = "aws:iam/groupMembership:GroupMembership"
USER_GROUP_MEMBERSHIP = "aws:iam/userGroupMembership:UserGroupMembership"
ROLE_POLICIES_EXCLUSIVE = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
ACCESS_POINT = "aws:s3/accessPoint:AccessPoint"
ACCESS_POINT_POLICY = "aws:s3control/accessPointPolicy:AccessPointPolicy"
FUNCTION = "aws:lambda/function:Function"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
TABLE = "aws:dynamodb/table:Table"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
KMS_GRANT = "aws:kms/grant:Grant"

# Keys AWS sets from who the caller is or which service calls; everything else the caller
# chooses (or omits) in its own request.
_FIXED_KEYS = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
    "aws:principaltype", "aws:principalisawsservice", "aws:principalservicename",
    "aws:principalservicenamelist", "aws:userid", "aws:username", "aws:sourcearn",
    "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
    "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:vpcsourceip", "aws:calledvia",
    "aws:calledviafirst", "aws:calledvialast", "aws:viaawsservice", "kms:viaservice",
    "kms:calleraccount", "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths",
    "s3:resourceaccount", "iam:passedtoservice", "aws:federatedprovider",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount", "s3:accesspointnetworkorigin",
    "lambda:functionurlauthtype",
})
_FIXED_PREFIXES = ("aws:principaltag/", "aws:resourcetag/", "kms:encryptioncontext:")
"""Principal and resource tags are the session's and the resource's; a KMS encryption
context counts as fixed for services (which set it) and is satisfiable for direct callers,
who are judged without ``kms:ViaService`` anyway."""


def caller_controls(key: str) -> bool:
    key = key.lower()
    return key not in _FIXED_KEYS and not key.startswith(_FIXED_PREFIXES) and ":" in key and \
        not _federated_key(key)


def _federated_key(key: str) -> bool:
    """``token.actions.githubusercontent.com:sub``, ``accounts.google.com:aud``, ...: set by
    the identity provider from the caller's real identity."""
    return "." in key.split(":", 1)[0]


def _clause_keys(statement: Mapping[str, Any]) -> list[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    return [str(k) for clauses in condition.values() if isinstance(clauses, Mapping) for k in clauses]


def attacker_view(document: Any, keep: frozenset[str] = frozenset()) -> Any:
    """``document`` as a caller who picks its own request keys sees it: Allow clauses on
    caller-chosen keys are met, Deny statements with such a clause are avoided. Keys in
    ``keep`` (lower case) stay and are judged against the request context."""
    if not isinstance(document, Mapping):
        return document
    out = []
    for statement in statements(document):
        condition = statement.get("Condition")
        if not isinstance(condition, Mapping) or not condition:
            out.append(statement)
            continue
        chosen = [k for k in _clause_keys(statement) if caller_controls(k) and k.lower() not in keep]
        if not chosen:
            out.append(statement)
            continue
        if statement.get("Effect") == "Deny":
            continue
        kept: dict[str, dict] = {}
        for operator, clauses in condition.items():
            if not isinstance(clauses, Mapping):
                continue
            rest = {k: v for k, v in clauses.items() if not caller_controls(k) or k.lower() in keep}
            if rest:
                kept[operator] = rest
        out.append({**statement, "Condition": kept})
    return {"Version": "2012-10-17", "Statement": out}


# ---------------------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Store:
    """One place data or evidence lives, as the IAM engine addresses it."""

    name: str
    """``<logical name>`` or ``<logical name>/<part>`` (``objects``, ``objects:public/``,
    ``objects:own:<tag key>``): what the access model and messages call it."""
    node: Node
    service: str
    resource_type: str
    """The IAM resource type of ``sample`` (from the action table: ``object``, ``key``...)."""
    sample: str
    """A resource ARN inside the store; ``{tag}`` stands for the session's tag value."""
    policy: Any
    owner: str
    own_tag: Optional[str] = None

    def resource(self, tags: Mapping[str, str]) -> str:
        if self.own_tag:
            return self.sample.replace("{tag}", tags.get(self.own_tag, "zz-untagged"))
        return self.sample


@lru_cache(maxsize=None)
def store_actions(service: str, resource_type: str) -> tuple[str, ...]:
    """Every action of ``service`` that acts on ``resource_type``."""
    return tuple(sorted(f"{service}:{name}" for name, (_, types) in engine.service_actions(service).items()
                        if resource_type in types))


def _arn(node: Node) -> Optional[str]:
    arn = node.props.get("arn")
    return arn if isinstance(arn, str) and not is_unknown(arn) else None


def _prefixes(index: StackIndex, bucket_arn: str) -> set[str]:
    """Literal key prefixes the graph's policies name inside a bucket (``public/``)."""
    found: set[str] = set()
    pattern = re.compile(re.escape(bucket_arn) + r"/([A-Za-z0-9_.\-]+/)")
    for document in _all_documents(index):
        for statement in statements(document):
            for field_name in ("Resource", "NotResource"):
                for value in as_list(statement.get(field_name)):
                    if isinstance(value, str):
                        match = pattern.match(value)
                        if match and "${" not in match.group(1) and match.group(1) not in ("../", "./"):
                            found.add(match.group(1))
    for distribution in index.of_type("aws:cloudfront/distribution:Distribution"):
        for behaviour in as_list(distribution.props.get("orderedCacheBehaviors")):
            pattern = behaviour.get("pathPattern") if isinstance(behaviour, dict) else None
            if isinstance(pattern, str):
                head = pattern.lstrip("/").split("/", 1)[0]
                if "/" in pattern.lstrip("/") and head and not any(c in head for c in "*?"):
                    found.add(head + "/")
    return found


def _all_documents(index: StackIndex) -> list[Any]:
    cached = getattr(index, "_model_documents", None)
    if cached is None:
        cached = [d for _, _, d in effective.identity_documents(index) if isinstance(d, dict)]
        cached += [d for _, _, d in effective.all_resource_policies(index) if isinstance(d, dict)]
        index._model_documents = cached  # type: ignore[attr-defined]
    return cached


def _tag_keys(index: StackIndex) -> set[str]:
    keys: set[str] = set()
    for document in _all_documents(index):
        for statement in statements(document):
            for value in as_list(statement.get("Resource")) + as_list(statement.get("NotResource")):
                if isinstance(value, str):
                    keys.update(re.findall(r"\$\{aws:PrincipalTag/([^}]+)\}/", value))
    return keys


def _policy_of(index: StackIndex, node: Node, policy_type: str, key: str) -> Any:
    """Inline ``policy`` of ``node``, replaced by the last separate policy resource naming it."""
    document = effective.parse(node.props.get("policy")) if node.props.get("policy") else None
    ids = {node.props.get(k) for k in ("id", "arn", "url", "name", "keyId")} - {None}
    for other in index.of_type(policy_type):
        value = other.props.get(key)
        if (isinstance(value, str) and value in ids) or node.urn in other.property_dependencies.get(key, []):
            document = effective.parse(other.props.get("policy") or other.props.get("policyDocument"))
    return document


def _lambda_permission_policy(index: StackIndex, function: Node) -> Optional[dict]:
    """A function's resource policy, made of its ``lambda.Permission`` resources."""
    ids = {function.props.get(k) for k in ("name", "arn", "id")} - {None}
    found = []
    for permission in index.of_type(LAMBDA_PERMISSION):
        value = permission.props.get("function")
        if not ((isinstance(value, str) and value in ids)
                or function.urn in permission.property_dependencies.get("function", [])):
            continue
        principal = permission.props.get("principal") or "*"
        kind = "Service" if isinstance(principal, str) and principal.endswith(".amazonaws.com") else "AWS"
        condition: dict[str, dict[str, str]] = {}
        for prop, key in (("sourceArn", "AWS:SourceArn"), ("sourceAccount", "AWS:SourceAccount"),
                          ("principalOrgId", "aws:PrincipalOrgID")):
            value = permission.props.get(prop)
            if isinstance(value, str) and value:
                condition.setdefault("ArnLike" if prop == "sourceArn" else "StringEquals", {})[key] = value
        if permission.props.get("functionUrlAuthType"):
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = \
                permission.props["functionUrlAuthType"]
        statement = {"Sid": permission.name, "Effect": "Allow", "Principal": {kind: principal},
                     "Action": permission.props.get("action") or "lambda:InvokeFunction",
                     "Resource": _arn(function) or "*"}
        if condition:
            statement["Condition"] = condition
        found.append(statement)
    for url in index.of_type(FUNCTION_URL):
        value = url.props.get("functionName")
        if ((isinstance(value, str) and value in ids) or function.urn in url.property_dependencies.get("functionName", [])) \
                and url.props.get("authorizationType") == "NONE":
            found.append({"Sid": f"{url.name} (function URL, auth NONE)", "Effect": "Allow", "Principal": "*",
                          "Action": "lambda:InvokeFunctionUrl", "Resource": _arn(function) or "*"})
    return {"Version": "2012-10-17", "Statement": found} if found else None


def _with_grants(index: StackIndex, key: Node, policy: Any) -> Any:
    """A key policy plus the key's grants (``aws.kms.Grant``): a grant lets its grantee use
    the operations it lists, like a key-policy statement naming the grantee (KMS grants
    hold constraints only on the encryption context, which the grantee sets)."""
    extra = []
    for grant in index.of_type(KMS_GRANT):
        if not _refers(index, grant, "keyId", key):
            continue
        grantee = grant.props.get("granteePrincipal")
        if not isinstance(grantee, str) or not grantee:
            continue
        kind = "Service" if grantee.endswith(".amazonaws.com") else "AWS"
        extra.append({"Sid": f"grant {grant.name}", "Effect": "Allow", "Principal": {kind: grantee},
                      "Action": [f"kms:{op}" for op in as_list(grant.props.get("operations")) if isinstance(op, str)],
                      "Resource": "*"})
    if not extra:
        return policy
    base = statements(policy) if isinstance(policy, dict) else []
    return {"Version": "2012-10-17", "Statement": base + extra}


def _stores(index: StackIndex, own: str) -> list[Store]:
    out: list[Store] = []
    tag_keys = _tag_keys(index)
    for bucket in index.buckets:
        arn = effective.bucket_arn(bucket)
        if not arn:
            continue
        policy, _ = effective.effective_policy(index, bucket)
        out.append(Store(bucket.name, bucket, "s3", "bucket", arn, policy, own))
        out.append(Store(f"{bucket.name}/objects", bucket, "s3", "object", f"{arn}/{ANY_KEY}", policy, own))
        for prefix in sorted(_prefixes(index, arn)):
            out.append(Store(f"{bucket.name}/objects:{prefix}", bucket, "s3", "object",
                             f"{arn}/{prefix}zz-any-object", policy, own))
        for key in sorted(tag_keys):
            out.append(Store(f"{bucket.name}/objects:own:{key}", bucket, "s3", "object",
                             f"{arn}/{{tag}}/zz-any-object", policy, own, own_tag=key))
    for key in index.of_type(effective.KEY):
        arn = _arn(key)
        if arn:
            out.append(Store(key.name, key, "kms", "key", arn, _with_grants(index, key,
                                                                            effective.effective_policy(index, key)[0]),
                             own))
    for topic in index.of_type(effective.TOPIC):
        arn = _arn(topic)
        if arn:
            out.append(Store(topic.name, topic, "sns", "topic", arn, effective.effective_policy(index, topic)[0], own))
    for queue in index.of_type(QUEUE):
        arn = _arn(queue)
        if arn:
            out.append(Store(queue.name, queue, "sqs", "queue", arn, _policy_of(index, queue, QUEUE_POLICY, "queueUrl"),
                             own))
    log_policies = [effective.parse(p.props.get("policyDocument")) for p in index.of_type(LOG_RESOURCE_POLICY)]
    log_policy = {"Statement": [s for d in log_policies for s in statements(d)]} if log_policies else None
    for group in index.of_type(LOG_GROUP):
        arn = _arn(group)
        if arn:
            base = arn[:-2] if arn.endswith(":*") else arn
            out.append(Store(group.name, group, "logs", "log-group", base, log_policy, own))
            out.append(Store(f"{group.name}/streams", group, "logs", "log-stream",
                             f"{base}:log-stream:zz-any-stream", log_policy, own))
    for point in index.of_type(ACCESS_POINT):
        arn = _arn(point)
        if arn:
            out.append(Store(f"{point.name}/objects", point, "s3", "object", f"{arn}/object/{ANY_KEY}",
                             _policy_of(index, point, ACCESS_POINT_POLICY, "accessPointArn"), own))
    for function in index.of_type(FUNCTION):
        arn = _arn(function)
        if arn:
            out.append(Store(function.name, function, "lambda", "function", arn,
                             _lambda_permission_policy(index, function), own))
    for trail in index.of_type("aws:cloudtrail/trail:Trail"):
        arn = _arn(trail)
        if arn:
            out.append(Store(trail.name, trail, "cloudtrail", "trail", arn, None, own))
    for secret in index.of_type(SECRET):
        arn = _arn(secret)
        if arn:
            out.append(Store(secret.name, secret, "secretsmanager", "Secret", arn,
                             _policy_of(index, secret, SECRET_POLICY, "secretArn"), own))
    for table in index.of_type(TABLE):
        arn = _arn(table)
        if arn:
            out.append(Store(table.name, table, "dynamodb", "table", arn,
                             _policy_of(index, table, TABLE_POLICY, "resourceArn"), own))
    return out


# ---------------------------------------------------------------------------------------
# Principals
# ---------------------------------------------------------------------------------------

@dataclass
class Principal:
    """Someone who can send requests: a graph role/user or a standing outsider."""

    name: str
    kind: str
    """``role``, ``user``, ``anonymous``, ``other-account``, ``this-account``,
    ``other-distribution``, ``service``."""
    caller: engine.Caller
    node: Optional[Node] = None
    context: dict[str, Any] = field(default_factory=dict)
    trust: Any = None
    unreadable: list[str] = field(default_factory=list)
    """Attached policies the model cannot read (an ARN outside the graph and the shipped
    AWS-managed set): what they grant is unknown."""
    managed: list[str] = field(default_factory=list)

    @property
    def outsider(self) -> bool:
        return self.node is None


def _node_ids(node: Node) -> set[str]:
    return {v for k in ("name", "arn", "id", "uniqueId") if isinstance(v := node.props.get(k), str) and v}


def _refers(index: StackIndex, holder: Node, key: str, target: Node) -> bool:
    value = holder.props.get(key)
    if isinstance(value, str) and value and not is_unknown(value):
        return value in _node_ids(target)
    return target.urn in holder.property_dependencies.get(key, [])


def _refers_list(holder: Node, key: str, target: Node) -> bool:
    values = holder.props.get(key)
    ids = _node_ids(target)
    if isinstance(values, list) and any(isinstance(v, str) and v in ids for v in values):
        return True
    return target.urn in holder.property_dependencies.get(key, [])


def _policy_by_arn(index: StackIndex, holder: Node, arn: Any, key: str = "policyArn") -> tuple[Any, Optional[str]]:
    """``(document, label)``; document None and label set when it cannot be read."""
    if is_managed_arn := managed.is_managed_arn(arn):
        policy = managed.managed_policy(arn)
        if policy is not None:
            return policy.document, f"AWS-managed {policy.name} ({policy.version}, {policy.updated[:10]})"
    for node in index.of_type(POLICY_TYPE):
        if (isinstance(arn, str) and arn in _node_ids(node)) or node.urn in holder.property_dependencies.get(key, []):
            return effective.parse(node.props.get("policy")), f"policy '{node.name}'"
    if is_managed_arn:
        return None, f"AWS-managed policy {arn} (not in the shipped set)"
    return None, f"policy {arn!r} (not in this program)"


def _identity(index: StackIndex, node: Node, inline_type: str, attach_type: str, key: str,
              principal: Principal) -> list[dict]:
    documents: list[dict] = []

    def add(document: Any, label: Optional[str]) -> None:
        if isinstance(document, dict):
            documents.append(document)
            if label and label.startswith("AWS-managed"):
                principal.managed.append(label)
        elif document is None and label:
            principal.unreadable.append(label)

    for inline in as_list(node.props.get("inlinePolicies")):
        if isinstance(inline, dict) and inline.get("policy"):
            add(effective.parse(inline["policy"]), None)
    for other in index.of_type(inline_type):
        if _refers(index, other, key, node):
            add(effective.parse(other.props.get("policy")), None)
    for arn in as_list(node.props.get("managedPolicyArns")):
        add(*_policy_by_arn(index, node, arn, "managedPolicyArns"))
    for attachment in index.of_type(attach_type):
        if _refers(index, attachment, key, node):
            add(*_policy_by_arn(index, attachment, attachment.props.get("policyArn")))
    for attachment in index.of_type(POLICY_ATTACHMENT):
        if _refers_list(attachment, key + "s", node):
            add(*_policy_by_arn(index, attachment, attachment.props.get("policyArn")))
    return documents


def _groups_of(index: StackIndex, user: Node) -> list[Node]:
    groups = []
    for group in index.of_type(GROUP):
        for membership in index.of_type(GROUP_MEMBERSHIP):
            if _refers(index, membership, "group", group) and _refers_list(membership, "users", user):
                groups.append(group)
        for membership in index.of_type(USER_GROUP_MEMBERSHIP):
            if _refers(index, membership, "user", user) and _refers_list(membership, "groups", group):
                groups.append(group)
    return groups


def _boundary(index: StackIndex, node: Node, principal: Principal) -> Optional[dict]:
    arn = node.props.get("permissionsBoundary")
    if not arn:
        return None
    document, label = _policy_by_arn(index, node, arn, "permissionsBoundary")
    if isinstance(document, dict):
        return document
    principal.unreadable.append(f"permissions boundary {label}")
    return None


def _tags(node: Node) -> dict[str, str]:
    tags = node.props.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def _graph_principals(index: StackIndex, own: str) -> list[Principal]:
    out: list[Principal] = []
    for role in index.of_type(ROLE):
        arn = _arn(role) or f"arn:aws:iam::{own}:role/{role.props.get('name') or role.name}"
        principal = Principal(role.name, "role", engine.Caller(role.name), role,
                              trust=effective.parse(role.props.get("assumeRolePolicy")))
        identity = _identity(index, role, ROLE_POLICY, ROLE_ATTACHMENT, "role", principal)
        boundary = _boundary(index, role, principal)
        principal.caller = engine.Caller(role.name, own, arn, tuple(identity), _tags(role), boundary)
        out.append(principal)
    for user in index.of_type(USER):
        arn = _arn(user) or f"arn:aws:iam::{own}:user/{user.props.get('name') or user.name}"
        principal = Principal(user.name, "user", engine.Caller(user.name), user)
        identity = _identity(index, user, USER_POLICY, USER_ATTACHMENT, "user", principal)
        for group in _groups_of(index, user):
            identity += _identity(index, group, GROUP_POLICY, GROUP_ATTACHMENT, "group", principal)
        boundary = _boundary(index, user, principal)
        principal.caller = engine.Caller(user.name, own, arn, tuple(identity), _tags(user), boundary)
        out.append(principal)
    return out


ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _services_named(index: StackIndex) -> set[str]:
    found: set[str] = {"cloudfront.amazonaws.com", "s3.amazonaws.com", "logging.s3.amazonaws.com",
                       "cloudtrail.amazonaws.com", "delivery.logs.amazonaws.com", "sns.amazonaws.com"}
    for document in _all_documents(index):
        for statement in statements(document):
            for kind, value in engine.principal_entries(statement.get("Principal")):
                if kind == "Service":
                    found.add(value)
    for store_type in (LAMBDA_PERMISSION,):
        for node in index.of_type(store_type):
            principal = node.props.get("principal")
            if isinstance(principal, str) and principal.endswith(".amazonaws.com"):
                found.add(principal)
    return found


def _foreign_principals(index: StackIndex, own: str) -> set[tuple[str, str]]:
    """``(account, principal ARN)`` of the other accounts the graph's grants name: the
    account's generic principal, plus each named role or user (an outsider controls every
    principal of its own account)."""
    found = {(OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:role/outsider")}
    named: list[str] = []
    for document in _all_documents(index):
        for statement in statements(document):
            if statement.get("Effect") == "Allow":
                for account in engine.granted_accounts(statement):
                    if account != own:
                        found.add((account, f"arn:aws:iam::{account}:role/outsider"))
                named += [v for k, v in engine.principal_entries(statement.get("Principal")) if k == "AWS"]
    named += [g.props.get("granteePrincipal") for g in index.of_type(KMS_GRANT)]
    for value in named:
        account = engine.account_of(value) if isinstance(value, str) else None
        if account and account != own and ":root" not in value and re.match(r"arn:[^:]+:(iam|sts)::", value):
            found.add((account, value))
    return found


def _program_services(index: StackIndex, own: str) -> list[Principal]:
    """AWS services acting for this program's own resources: each service a resource
    policy grants, with the fixed source ARN it is pinned to (or this account). They are
    principals of the program; the access model says what each may do."""
    found: dict[tuple[str, str], Principal] = {}
    for document in _all_documents(index):
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            services = [v for k, v in engine.principal_entries(statement.get("Principal")) if k == "Service"]
            if not services:
                continue
            pins = engine.restricting_conditions(statement)
            sources = pins.get("aws:sourcearn", []) or [""]
            for service in services:
                for source in sources:
                    context = {"aws:SourceAccount": own}
                    if source:
                        context["aws:SourceArn"] = source
                    found.setdefault((service, source), Principal(
                        f"svc:{service}", "program-service", engine.Caller(f"svc:{service}", service=service),
                        context=context))
    return list(found.values())


def _outsiders(index: StackIndex, own: str) -> list[Principal]:
    out = [Principal("anonymous", "anonymous", engine.Caller("anonymous", anonymous=True))]
    for account, arn in sorted(_foreign_principals(index, own)):
        label = f"a principal of account {account}" if arn.endswith(":role/outsider") else f"{arn} (account {account})"
        out.append(Principal(label, "other-account",
                             engine.Caller(f"other-{arn}", account, arn, (ADMIN,)),
                             context={"aws:PrincipalAccount": account}))
    out.append(Principal(f"a principal of this account ({own}) that no policy here names", "this-account",
                         engine.Caller("this-account", own, f"arn:aws:iam::{own}:role/not-in-this-program")))
    region = "us-east-1"
    out.append(Principal(f"CloudFront distribution {OTHER_DISTRIBUTION} (not this program's)", "other-distribution",
                         engine.Caller("other-distribution", service="cloudfront.amazonaws.com"),
                         context={"aws:SourceArn": f"arn:aws:cloudfront::{own}:distribution/{OTHER_DISTRIBUTION}",
                                  "aws:SourceAccount": own}))
    for service in sorted(_services_named(index)):
        short = service.split(".", 1)[0]
        out.append(Principal(f"service {service} acting for account {OTHER_ACCOUNT}", "service",
                             engine.Caller(f"service-{service}", service=service),
                             context={"aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceOwner": OTHER_ACCOUNT,
                                      "aws:SourceArn": f"arn:aws:{short}:{region}:{OTHER_ACCOUNT}:resource/zz"}))
    return out


# ---------------------------------------------------------------------------------------
# Reach
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """What one principal (possibly through roles it assumes) can do to one store."""

    principal: Principal
    store: Store
    actions: frozenset[str]
    path: tuple[str, ...]
    """How it gets there: the roles assumed on the way, first to last."""
    tags: tuple[tuple[str, str], ...] = ()

    def how(self) -> str:
        steps = " -> ".join(self._step(r) for r in self.path)
        tags = ", ".join(f"{k}={v!r}" for k, v in self.tags)
        return (f"{self.principal.name}" + (f" {steps}" if steps else "")
                + (f" (session tags {tags})" if tags else ""))


    @staticmethod
    def _step(step: str) -> str:
        role, sep, function = step.partition(" (by invoking ")
        return f"invokes function '{function.rstrip(')')}' running as role '{role}'" if sep else f"assumes role '{role}'"


_TAG_CANDIDATES = (OWN_TAG_VALUE, "public", "a/b", "*", "")
"""Session-tag values an assumer may try: a tenant, a shared prefix's name, a nested path,
a wildcard, nothing. The graph's own literal prefixes are added per stack."""


@dataclass
class Session:
    """A principal acting, maybe after assuming roles: whose permissions, which tags."""

    origin: Principal
    role: Principal
    path: tuple[str, ...]
    tags: dict[str, str]


class StackModel:
    """Stores, principals and the reach of each principal to each store."""

    def __init__(self, index: StackIndex, own: str) -> None:
        self.index = index
        self.own = own
        self.stores = _stores(index, own)
        self.prefix_names = {s.name.rsplit(":", 1)[1].rstrip("/") for s in self.stores
                             if ":" in s.name and not s.own_tag}
        self.principals = _graph_principals(index, own)
        self.outsiders = _outsiders(index, own)
        self.services = _program_services(index, own)
        self._views: dict[int, Any] = {}
        self._actions_cache: dict[tuple, frozenset[str]] = {}
        self._sessions_cache: dict[int, list[Session]] = {}
        self._action_sets: dict[int, frozenset[str]] = {}
        self._keep: list[Any] = []
        self._reach_cache: dict[int, list[Access]] = {}

    # -- documents as the caller sees them -------------------------------------------------
    def view(self, document: Any) -> Any:
        key = id(document)
        if key not in self._views:
            self._views[key] = (document, attacker_view(document))
        return self._views[key][1]

    def _caller(self, principal: Principal, tags: Mapping[str, str]) -> engine.Caller:
        caller = principal.caller
        identity = tuple(self.view(d) for d in caller.identity)
        boundary = self.view(caller.boundary) if caller.boundary else None
        return engine.Caller(caller.name, caller.account, caller.arn, identity, dict(tags), boundary,
                             caller.service, caller.anonymous)

    # -- trust chains ---------------------------------------------------------------------
    def _assume_tags(self, assumer: engine.Caller, context: Mapping[str, Any], role: Principal,
                     values: Optional[tuple[str, ...]] = None) -> list[dict[str, str]]:
        """Session-tag sets ``assumer`` may start ``role`` with (``[]``: it cannot assume);
        ``values``: the request-tag values to try (default: every candidate)."""
        if not isinstance(role.trust, dict) or not role.caller.arn:
            return []
        keys = self._request_tag_keys(role)
        keep = frozenset({"aws:tagkeys"} | {f"aws:requesttag/{k}".lower() for k in keys})
        trust = attacker_view(role.trust, keep)
        candidates = values if values is not None else _TAG_CANDIDATES + tuple(sorted(self.prefix_names))
        variants: list[dict[str, str]] = [{}]
        for key in sorted(keys):
            variants = [dict(v, **{key: value}) for v in variants for value in candidates] + variants
        found = []
        for tags in variants:
            ctx = dict(context)
            ctx["aws:TagKeys"] = sorted(tags)
            for k, v in tags.items():
                ctx[f"aws:RequestTag/{k}"] = v
            allowed = engine.authorize(assumer, engine.Check("sts:AssumeRole", role.caller.arn, ctx, trust, self.own))
            if allowed and tags:
                allowed = engine.authorize(assumer, engine.Check("sts:TagSession", role.caller.arn, ctx, trust,
                                                                 self.own))
            if allowed:
                found.append(dict(role.caller.tags, **tags))
        return found

    def _starts(self, origin: Principal) -> list[Session]:
        """How ``origin``'s own sessions begin. A role that principals of this account may
        assume (its trust names the account) carries the session tags such an assumer can
        set, whatever tags that assumer has itself; other roles (service roles, roles
        trusted by named roles) start untagged and are reached through their assumers."""
        if origin.kind == "role":
            tag_sets: list[dict[str, str]] = []
            for value in _TAG_CANDIDATES + tuple(sorted(self.prefix_names)):
                tags = {k: value for k in self._request_tag_keys(origin)}
                assumer = engine.Caller("delegated", self.own, f"arn:aws:iam::{self.own}:role/zz-delegated",
                                        (ADMIN,), tags)
                for found in self._assume_tags(assumer, {}, origin, (value,)):
                    if found not in tag_sets:
                        tag_sets.append(found)
            if tag_sets:
                return [Session(origin, origin, (), tags) for tags in tag_sets]
        return [Session(origin, origin, (), dict(origin.caller.tags))]

    @staticmethod
    def _request_tag_keys(role: Principal) -> set[str]:
        return {key.split("/", 1)[1] for statement in statements(role.trust) for key in _clause_keys(statement)
                if key.lower().startswith("aws:requesttag/")}

    def sessions(self, origin: Principal) -> list[Session]:
        """``origin`` itself and every role it can become, with the tags it can carry."""
        cached = self._sessions_cache.get(id(origin))
        if cached is None:
            cached = self._sessions_cache[id(origin)] = self._sessions(origin)
        return cached

    def _sessions(self, origin: Principal) -> list[Session]:
        out = self._starts(origin)
        frontier = list(out)
        seen = {(s.role.name, tuple(sorted(s.tags.items()))) for s in out}
        while frontier:
            current = frontier.pop()
            caller = self._caller(current.role, current.tags)
            context = dict(current.role.context)
            for function_store, role in self._invocable(current):
                key = (role.name, tuple(sorted(role.caller.tags.items())))
                if key not in seen:
                    seen.add(key)
                    session = Session(origin, role, current.path + (f"{role.name} (by invoking {function_store})",),
                                      dict(role.caller.tags))
                    out.append(session)
                    frontier.append(session)
            if current.role.caller.service:
                # A service assumes a role only when a principal of this account passes it
                # the role (iam:PassRole; IAM User Guide, "Granting a user permissions to
                # pass a role to an AWS service"): a service acting for another account
                # cannot start a session of this account's roles.
                continue
            for role in self.principals:
                if role.kind != "role" or role is current.role:
                    continue
                assumers = [caller]
                values: list[Optional[tuple[str, ...]]] = [None]
                if current.role.kind in ("other-account", "this-account"):
                    # An outsider tags its own principals as it likes (the tag it asks for).
                    pool = _TAG_CANDIDATES + tuple(sorted(self.prefix_names))
                    assumers = [self._caller(current.role, {k: value for k in self._request_tag_keys(role)})
                                for value in pool]
                    values = [(value,) for value in pool]
                found_tags: list[dict[str, str]] = []
                for assumer, only in zip(assumers, values):
                    found_tags += [t for t in self._assume_tags(assumer, context, role, only) if t not in found_tags]
                for tags in found_tags:
                    key = (role.name, tuple(sorted(tags.items())))
                    if key in seen:
                        continue
                    seen.add(key)
                    session = Session(origin, role, current.path + (role.name,), tags)
                    out.append(session)
                    frontier.append(session)
        return out

    def _action_set(self, statement: Mapping[str, Any]) -> frozenset[str]:
        key = id(statement)
        found = self._action_sets.get(key)
        if found is None:
            found = self._action_sets[key] = engine.statement_action_set(statement)
            self._keep.append(statement)  # ids stay valid while the model lives
        return found

    def _invocable(self, current: "Session") -> list[tuple[str, Principal]]:
        """Functions an outsider can invoke directly (a function URL with auth NONE, a
        permission to ``*`` or another account), with the role each runs as: invoking a
        function is acting with its role."""
        if not current.role.outsider or current.role.kind in ("service", "other-distribution"):
            return []
        found = []
        for store in self.stores:
            if store.service != "lambda":
                continue
            actions = self.actions(current, store)
            if not actions & {"lambda:InvokeFunction", "lambda:InvokeFunctionUrl"}:
                continue
            role_arn = store.node.props.get("role")
            for role in self.principals:
                if role.kind == "role" and (role.caller.arn == role_arn or
                                            role.node.urn in store.node.property_dependencies.get("role", [])):
                    found.append((store.name, role))
        return found

    # -- access -----------------------------------------------------------------------------
    def actions(self, session: Session, store: Store) -> frozenset[str]:
        """The store's actions ``session`` can perform on it."""
        key = (id(session.role), tuple(sorted(session.tags.items())), store.name)
        cached = self._actions_cache.get(key)
        if cached is not None:
            return cached
        policy = store.policy if isinstance(store.policy, dict) else None
        caller = self._caller(session.role, session.tags)
        context = dict(session.role.context)
        if caller.account:
            context.setdefault("kms:CallerAccount", caller.account)
        resource = store.resource(session.tags)
        merged = engine.request_context(caller, context)
        resource_policy = _narrow(self.view(policy), resource, merged, caller) if policy else None
        identity = tuple(_narrow(d, resource, merged) for d in caller.identity)
        boundary = _narrow(caller.boundary, resource, merged) if caller.boundary else None
        if not any(_has_allow(d) for d in identity + (resource_policy,)):
            allowed = frozenset()
        else:
            narrowed = engine.Caller(caller.name, caller.account, caller.arn, identity, caller.tags, boundary,
                                     caller.service, caller.anonymous)
            # Only actions some applicable Allow names can be allowed: try those alone.
            candidates: set[str] = set()
            for document in identity + (resource_policy,):
                for statement in statements(document):
                    if statement.get("Effect") == "Allow":
                        candidates |= self._action_set(statement)
            allowed = frozenset(a for a in store_actions(store.service, store.resource_type)
                                if a in candidates and
                                engine.authorize(narrowed, engine.Check(a, resource, context, resource_policy,
                                                                        store.owner)))
        self._actions_cache[key] = allowed
        return allowed

    def reach(self, origin: Principal) -> list[Access]:
        """Every store ``origin`` can act on, with the actions and the path."""
        cached = self._reach_cache.get(id(origin))
        if cached is None:
            cached = self._reach_cache[id(origin)] = self._reach(origin)
        return cached

    def _reach(self, origin: Principal) -> list[Access]:
        found = []
        for session in self.sessions(origin):
            for store in self.stores:
                if store.own_tag and store.own_tag not in session.tags:
                    continue
                actions = self.actions(session, store)
                if actions:
                    found.append(Access(origin, self._as_seen(store, session.tags), actions, session.path,
                                        tuple(sorted(session.tags.items()))))
        return found

    def _as_seen(self, store: Store, tags: Mapping[str, str]) -> Store:
        """A tagged session's "own prefix" is one only when its tag is one path segment: an
        empty tag, a path (``a/b`` is inside tenant ``a``), a dot segment or the name of a
        prefix the bucket shares (``public``) makes the prefix someone else's, so the store is
        named by the tag. (A ``*`` in a tag is literal in IAM: ``*/`` is its own prefix.)"""
        if not store.own_tag:
            return store
        value = tags.get(store.own_tag, "")
        bucket_prefixes = {s.name.rsplit(":", 1)[1].rstrip("/") for s in self.stores
                           if s.node is store.node and ":" in s.name and not s.own_tag}
        if value and "/" not in value and value not in (".", "..") and value not in bucket_prefixes:
            return store
        return Store(f"{store.node.name}/objects:tag:{store.own_tag}={value!r}", store.node, store.service,
                     store.resource_type, store.sample, store.policy, store.owner, store.own_tag)


def _narrow(document: Any, resource: str, merged: Mapping[str, Any],
            caller: Optional[engine.Caller] = None) -> Any:
    """Only the statements that can apply to ``resource`` under ``merged`` (and, for a
    resource policy, name ``caller``): the same verdicts for every action, fewer statements
    to try per action."""
    if not isinstance(document, Mapping):
        return document
    kept = []
    for statement in statements(document):
        if caller is not None and not engine._principal_match(statement, caller):
            continue
        if not engine._resource_matches(statement, resource, merged):
            continue
        if not engine._condition_matches(statement.get("Condition") or {}, merged):
            continue  # conditions do not depend on the action: one test for all of them
        kept.append(statement)
    return {"Version": "2012-10-17", "Statement": kept}


def _has_allow(document: Any) -> bool:
    return any(s.get("Effect") == "Allow" for s in statements(document))


_MODEL_CACHE: dict[str, Any] = {"key": None, "model": None}


def stack_model(index: StackIndex, configured_account: Optional[str] = None) -> Optional[StackModel]:
    """The model of the stack ``index`` reads, built once per stack run (every rule of a run
    receives the same resources)."""
    key = (tuple(id(n) for n in index.nodes), configured_account)
    if _MODEL_CACHE["key"] != key:
        own = effective.own_account(index, configured_account) or UNKNOWN_ACCOUNT
        _MODEL_CACHE.update(key=key, model=StackModel(index, own))
    return _MODEL_CACHE["model"]
