"""Answers for the AWS data sources public Pulumi programs call most, so the offline
engine can run programs nobody here wrote (``tests/pack_mutation/programs.py``).

Each answer is what the real data source returns in shape (ids that look like AWS ids, the
mocks' account and region); ``iam.getPolicyDocument`` renders the IAM JSON the provider
would, because the pack judges that document.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping, Optional


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _listify(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def policy_document(args: Mapping[str, Any]) -> dict:
    """``aws.iam.get_policy_document``: statements (camelCase) as IAM JSON."""
    statements = []
    for given in _listify(args.get("statements")):
        statement: dict[str, Any] = {}
        if given.get("sid"):
            statement["Sid"] = given["sid"]
        statement["Effect"] = given.get("effect") or "Allow"
        for source, target in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                               ("notResources", "NotResource")):
            values = _listify(given.get(source))
            if values:
                statement[target] = values[0] if len(values) == 1 else values
        for source, target in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            entries = _listify(given.get(source))
            if entries:
                principal: dict[str, Any] = {}
                for entry in entries:
                    ids = _listify(entry.get("identifiers"))
                    kind = entry.get("type")
                    if kind == "*" and ids == ["*"]:
                        principal = "*"  # type: ignore[assignment]
                        break
                    principal.setdefault(kind, []).extend(ids)
                if isinstance(principal, dict):
                    principal = {k: v[0] if len(v) == 1 else v for k, v in principal.items()}
                statement[target] = principal
        conditions: dict[str, dict[str, Any]] = {}
        for condition in _listify(given.get("conditions")):
            values = _listify(condition.get("values"))
            conditions.setdefault(condition["test"], {})[condition["variable"]] = \
                values[0] if len(values) == 1 else values
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    document = {"Version": args.get("version") or "2012-10-17", "Statement": statements}
    text = json.dumps(document, indent=2)
    return {"json": text, "minifiedJson": json.dumps(document, separators=(",", ":")), "id": _hex(text, 10)}


def answer(token: str, args: Mapping[str, Any], account: str, region: str) -> Optional[dict]:
    """The data source's result, or None when this module does not know ``token``."""
    makers: dict[str, Callable[[], dict]] = {
        "aws:iam/getPolicyDocument:getPolicyDocument": lambda: policy_document(args),
        "aws:ec2/getAmi:getAmi": lambda: {
            "id": f"ami-{_hex(json.dumps(args, sort_keys=True, default=str), 17)}",
            "imageId": f"ami-{_hex(json.dumps(args, sort_keys=True, default=str), 17)}",
            "arn": f"arn:aws:ec2:{region}::image/ami-0offline", "name": "offline-ami", "architecture": "x86_64"},
        "aws:ec2/getVpc:getVpc": lambda: {
            "id": "vpc-0offline000000001", "arn": f"arn:aws:ec2:{region}:{account}:vpc/vpc-0offline000000001",
            "cidrBlock": "172.31.0.0/16", "default": True, "ownerId": account},
        "aws:ec2/getSubnets:getSubnets": lambda: {
            "id": region, "ids": ["subnet-0offline00000001", "subnet-0offline00000002"]},
        "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
            "id": region, "names": [f"{region}a", f"{region}b", f"{region}c"],
            "zoneIds": [f"{region[:3]}1-az1", f"{region[:3]}1-az2", f"{region[:3]}1-az3"]},
        "aws:route53/getZone:getZone": lambda: {
            "id": "Z0OFFLINE0000000000", "zoneId": "Z0OFFLINE0000000000", "name": args.get("name") or "example.com",
            "arn": "arn:aws:route53:::hostedzone/Z0OFFLINE0000000000"},
    }
    maker = makers.get(token)
    return maker() if maker else None
