"""Reading template.yaml as the source of truth: functions, rules, environment, resources.

CloudFormation's short-form tags (!Ref, !GetAtt, !Sub ...) become their long
form, so the structure is what CloudFormation itself sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        return dict(yaml.load(handle, Loader=_CfnLoader))  # noqa: S506 (SafeLoader subclass)


@dataclass(frozen=True)
class Rule:
    """One EventBridgeRule event of a function, as the template declares it."""

    function_id: str
    rule_id: str
    pattern: dict[str, Any]
    code_uri: str
    handler: str
    event_bus: Any = "default"  # EventBusName, intrinsic functions unresolved
    state: Any = "ENABLED"  # State, intrinsic functions unresolved

    @property
    def module(self) -> str:
        """Import path of the handler module with `functions/` on sys.path."""
        return module_path(self.code_uri, self.handler)

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    def matches(self, event: dict[str, Any]) -> bool:
        from drill.patterns import matches

        return matches(self.pattern, event)


def resources(template: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict((template or load_template())["Resources"])


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources(template).items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def module_path(code_uri: str, handler: str) -> str:
    """Import path of a handler's module with `functions/` on sys.path:
    CodeUri functions/restore_trail/ and Handler app.handler give restore_trail.app."""
    return f"{Path(code_uri.rstrip('/')).name}.{handler.rsplit('.', 1)[0]}"


def handler_of(props: dict[str, Any], template: dict[str, Any] | None = None) -> str:
    """A function's Handler, its own or the Globals' one."""
    template = template or load_template()
    return str(props.get("Handler") or template["Globals"]["Function"]["Handler"])


def function_events(
    event_type: str, template: dict[str, Any] | None = None
) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(function id, event id, event properties, function properties) of every
    function event of `event_type` (EventBridgeRule, Schedule, ...)."""
    for function_id, props in functions(template).items():
        for event_id, event in (props.get("Events") or {}).items():
            if event["Type"] == event_type:
                yield function_id, event_id, event["Properties"], props


def rules(template: dict[str, Any] | None = None) -> list[Rule]:
    template = template or load_template()
    return [
        Rule(
            function_id=function_id,
            rule_id=rule_id,
            pattern=json.loads(json.dumps(event["Pattern"])),
            code_uri=props["CodeUri"].rstrip("/"),
            handler=handler_of(props, template),
            event_bus=event.get("EventBusName", "default"),
            state=event.get("State", "ENABLED"),
        )
        for function_id, rule_id, event, props in function_events("EventBridgeRule", template)
    ]


def global_environment(template: dict[str, Any] | None = None) -> dict[str, Any]:
    template = template or load_template()
    return dict(template["Globals"]["Function"]["Environment"]["Variables"])


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    template = template or load_template()
    return {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
