"""Reading pieces of template.yaml for the template tests (long-form intrinsics)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from drill.template import ROOT

EVENTS_DIR = ROOT / "events"


def event_files() -> list[Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


def read_event(name: str) -> dict[str, Any]:
    """A fresh copy of a sample event (callers may mutate it)."""
    return dict(json.loads((EVENTS_DIR / name).read_text()))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def role_id_of(function_props: dict[str, Any]) -> str:
    """The logical id of the AWS::IAM::Role a function names with !GetAtt Role.Arn."""
    role = function_props.get("Role")
    assert isinstance(role, dict) and "Fn::GetAtt" in role, (
        f"function role must be !GetAtt <Role>.Arn of a role in the template, got {role!r}"
    )
    logical_id, attribute = role["Fn::GetAtt"]
    assert attribute == "Arn", role
    return str(logical_id)


def unconditional(policy: dict[str, Any]) -> dict[str, Any]:
    """A role's inline policy; for `!If [Condition, policy, AWS::NoValue]`, the policy:
    what the role holds when the condition is true, the most it can hold."""
    if "Fn::If" in policy:
        return dict(policy["Fn::If"][1])
    return policy


def role_statements(resources: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of a role's inline policies (deep copies)."""
    props = resources[role_id]["Properties"]
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        found.extend(copy.deepcopy(as_list(unconditional(policy)["PolicyDocument"]["Statement"])))
    return found


def actions_of(statement: dict[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action"))]


def allowed_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        if statement.get("Effect") == "Allow"
        for action in actions_of(statement)
    }


def statements_granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in statements
        if statement.get("Effect") == "Allow" and action in actions_of(statement)
    ]


def sub_text(value: Any) -> str:
    """The template string of a !Sub (short or list form), or a plain string."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return ""


# Problems of template.yaml these tests found, each a strict xfail: the test still
# runs, and once the template is fixed it passes, fails as XPASS, and the entry
# must be removed. Keyed by (test function name, parameter: function id or "").
KNOWN_TEMPLATE_BUGS: dict[tuple[str, str], str] = {}


def mark_known_template_bug(request: pytest.FixtureRequest, parameter: str = "") -> None:
    """Turn this test into a strict xfail when it checks a known template.yaml bug."""
    reason = KNOWN_TEMPLATE_BUGS.get((request.node.originalname, parameter))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"template.yaml: {reason}"))
