"""The EventBridge rules of template.yaml against the sample events in events/.

Each rule must catch every attack event it exists for and nothing else, and a
near miss (another service, another detail-type, a read-only or unrelated call)
must match no rule. Matching uses moto's EventBridge matcher (drill.patterns),
so the patterns must stay within what it evaluates (docs/testing-offline.md).

Filtering on request parameters (service principal, role name, trail name),
on errorCode and on the caller is done by the handlers, not by the patterns:
- failed attempts (errorCode set) must still be delivered: docs/architecture.md
  asks for an alert on them;
- IAM role names are case-insensitive, so a roleName filter in a pattern could
  be bypassed by changing the case; the handler compares case-insensitively;
- trailguard's own calls and allow-listed principals are told apart by
  configuration known only at run time;
- the protected trail list is a parameter and `name` is either a name or an ARN.
So events for another service principal, another service-linked role, an
unprotected trail or trailguard's own role are expected to match.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drill.template import Rule, rules
from tests.template.helpers import event_files, read_event
from trailguard.domain.events import DETAIL_TYPE, SOURCES, parse_api_call_event
from trailguard.engine.handler import handle_api_call
from trailguard.errors import InvalidEvent
from trailguard.protected.delivery_chain import PART_BY_EVENT
from trailguard.protected.trail import ASPECTS_BY_EVENT, DELEGATED_ADMIN_EVENTS
from trailguard.protected.trailguard_itself import ALTERING, SILENCING, base_name
from trailguard.protected.trusted_access import DELEGATED_ADMIN_EVENTS as ORG_DELEGATED_ADMIN_EVENTS

TRUSTED_ACCESS = "RestoreTrustedAccessFunction/TrustedAccessDisabled"
TRAIL = "RestoreTrailFunction/TrailChanged"
SERVICE_LINKED_ROLE = "RestoreServiceLinkedRoleFunction/ServiceLinkedRoleDeleted"
OWN_RULES = "AlertSelfTamperingFunction/OwnRulesChanged"
OWN_FUNCTIONS = "AlertSelfTamperingFunction/OwnFunctionsChanged"
OWN_TOPIC = "AlertSelfTamperingFunction/OwnTopicChanged"
OWN_TABLES = "AlertSelfTamperingFunction/OwnTablesChanged"
OWN_ALERT_KEY = "AlertSelfTamperingFunction/OwnAlertKeyChanged"
OWN_ALARMS = "AlertSelfTamperingFunction/OwnAlarmsChanged"
OWN_STACK = "AlertSelfTamperingFunction/OwnStackChanged"
OWN_ROLES = "AlertSelfTamperingFunction/OwnRolesChanged"
SELF_PROTECTION = (
    OWN_RULES,
    OWN_FUNCTIONS,
    OWN_TOPIC,
    OWN_TABLES,
    OWN_ALERT_KEY,
    OWN_ALARMS,
    OWN_STACK,
    OWN_ROLES,
)
BUCKET = "RestoreDeliveryChainFunction/BucketChanged"
KEY = "RestoreDeliveryChainFunction/KeyChanged"
LOG_GROUP = "RestoreDeliveryChainFunction/LogGroupChanged"

# Every sample event in events/ and the rules that must deliver it. An event
# file missing here fails test_every_sample_event_is_classified.
EXPECTED_RULES: dict[str, set[str]] = {
    "disable_trusted_access.json": {TRUSTED_ACCESS},
    "disable_trusted_access_denied.json": {TRUSTED_ACCESS},
    "disable_trusted_access_other_service.json": {TRUSTED_ACCESS},
    "delete_service_linked_role.json": {SERVICE_LINKED_ROLE},
    "delete_other_service_linked_role.json": {SERVICE_LINKED_ROLE},
    "delete_trail.json": {TRAIL},
    "hostile_trail_name.json": {TRAIL},
    "put_event_selectors_exclude_management.json": {TRAIL},
    "put_insight_selectors_clear.json": {TRAIL},
    "register_delegated_admin.json": {TRAIL},
    "register_delegated_administrator_organizations.json": {TRUSTED_ACCESS},
    "stop_logging.json": {TRAIL},
    "stop_logging_by_arn.json": {TRAIL},
    "stop_logging_by_remediator.json": {TRAIL},
    "stop_logging_console_sso.json": {TRAIL},
    "stop_logging_denied.json": {TRAIL},
    "stop_logging_unprotected_trail.json": {TRAIL},
    "update_trail_by_allowed_deployer.json": {TRAIL},
    "update_trail_by_remediator.json": {TRAIL},
    "update_trail_weaken.json": {TRAIL},
    # No `detail`: every pattern filters on detail.eventSource/eventName, so
    # EventBridge never delivers it. Should it reach a handler anyway (direct
    # invocation, a future catch-all rule), the handler rejects it without
    # calling AWS: see test_malformed_event_is_rejected_by_the_handlers.
    "disable_own_rule.json": {OWN_RULES},
    "disable_other_rule.json": {OWN_RULES},
    "throttle_own_function_to_zero.json": {OWN_FUNCTIONS},
    "update_own_function_by_cloudformation.json": {OWN_FUNCTIONS},
    "delete_alert_topic.json": {OWN_TOPIC},
    "delete_baseline_table.json": {OWN_TABLES},
    "put_own_rule_disabled.json": {OWN_RULES},
    "pass_own_role_to_new_function.json": {OWN_FUNCTIONS},
    "set_alert_subscription_filter_policy.json": {OWN_TOPIC},
    "disable_alert_key.json": {OWN_ALERT_KEY, KEY},
    "disable_own_alarm_actions.json": {OWN_ALARMS},
    "update_own_stack.json": {OWN_STACK},
    "put_own_role_policy.json": {OWN_ROLES},
    "malformed_missing_detail.json": set(),
    # The delivery chain (protected/delivery_chain.py). Which trail's bucket, key or log
    # group a call names is the handler's to decide (the baseline knows), so another
    # bucket's policy and trailguard's own repair are delivered too; the companion
    # (companions/log-archive/) forwards only the trail's bucket and key.
    "put_bucket_policy_deny_cloudtrail.json": {BUCKET},
    "put_bucket_lifecycle_expire_logs.json": {BUCKET},
    "put_bucket_versioning_suspended.json": {BUCKET},
    "delete_bucket.json": {BUCKET},
    "put_bucket_policy_other_bucket.json": {BUCKET},
    "put_bucket_policy_by_trailguard.json": {BUCKET},
    "disable_key.json": {KEY, OWN_ALERT_KEY},
    "schedule_key_deletion.json": {KEY, OWN_ALERT_KEY},
    "put_key_policy_drop_cloudtrail.json": {KEY, OWN_ALERT_KEY},
    "delete_log_group.json": {LOG_GROUP},
    "put_retention_policy_one_day.json": {LOG_GROUP},
    # KMS calls reach both the trail key's rule and the alert key's: each handler
    # acts on its own key only (the baseline's chain, the stack's alert key).
    # Near misses: calls on the trail's bucket and key that do not break delivery.
    "put_bucket_tagging_trail_bucket.json": set(),
    "enable_key.json": set(),
}
MALFORMED = "malformed_missing_detail.json"
# Events some rule must deliver (the malformed one and the near misses are not).
ATTACK_EVENTS = sorted(name for name, expected in EXPECTED_RULES.items() if expected)

# EventBridge content filters (EventBridge User Guide, "Content filtering").
# moto accepts unknown operators silently, so a typo would never fail a test.
KNOWN_OPERATORS = {
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "cidr",
}

RULES = rules()
RULES_BY_KEY = {f"{rule.function_id}/{rule.rule_id}": rule for rule in RULES}


def matching(event: dict[str, Any]) -> set[str]:
    return {key for key, rule in RULES_BY_KEY.items() if rule.matches(event)}


def test_the_template_declares_exactly_the_expected_rules() -> None:
    assert len(RULES_BY_KEY) == len(RULES), "two rules share a function/rule id"
    assert set(RULES_BY_KEY) == {
        TRUSTED_ACCESS,
        TRAIL,
        SERVICE_LINKED_ROLE,
        *SELF_PROTECTION,
        BUCKET,
        KEY,
        LOG_GROUP,
    }


def test_every_sample_event_is_classified() -> None:
    on_disk = {path.name for path in event_files()}
    assert on_disk == set(EXPECTED_RULES), (
        "classify new sample events in EXPECTED_RULES (and drop removed ones): "
        f"unclassified {sorted(on_disk - set(EXPECTED_RULES))}, "
        f"missing {sorted(set(EXPECTED_RULES) - on_disk)}"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_sample_event_is_matched_by_exactly_the_expected_rules(name: str) -> None:
    assert matching(read_event(name)) == EXPECTED_RULES[name]


# The per-rule table: for each rule, the events it MUST match and MUST NOT match.
RULE_TABLE = [
    pytest.param(key, name, key in expected, id=f"{key.split('/')[1]}-{name.removesuffix('.json')}")
    for key in sorted(RULES_BY_KEY)
    for name, expected in sorted(EXPECTED_RULES.items())
]


@pytest.mark.parametrize(("rule_key", "name", "must_match"), RULE_TABLE)
def test_rule_matches_or_ignores_sample_event(rule_key: str, name: str, must_match: bool) -> None:
    assert RULES_BY_KEY[rule_key].matches(read_event(name)) is must_match


def test_every_rule_matches_at_least_one_sample_event() -> None:
    used = set().union(*EXPECTED_RULES.values())
    assert used == set(RULES_BY_KEY), "a rule has no sample event that exercises it"


def test_malformed_event_is_rejected_by_the_handlers() -> None:
    raw = read_event(MALFORMED)
    with pytest.raises(InvalidEvent, match="detail"):
        parse_api_call_event(raw)

    def never(*_: Any) -> Any:
        raise AssertionError("the service must not run for a malformed event")

    # Rejected before any dependency (and so any AWS client) is built.
    outcome = handle_api_call(raw, never, metrics=None)
    assert outcome["outcome"] == "rejected"


@pytest.mark.parametrize("name", ATTACK_EVENTS)
def test_attack_events_are_valid_for_the_handlers(name: str) -> None:
    event = parse_api_call_event(read_event(name))
    assert event.event_name


# ------------------------------------------------------------------ near misses


def _set_source(event: dict[str, Any], value: str) -> None:
    event["source"] = value


def _set_detail_type(event: dict[str, Any], value: str) -> None:
    event["detail-type"] = value


def _set_event_name(event: dict[str, Any], value: str) -> None:
    event["detail"]["eventName"] = value


def _set_event_source(event: dict[str, Any], value: str) -> None:
    event["detail"]["eventSource"] = value


MUTATIONS = [
    pytest.param(_set_source, "aws.ec2", id="source-aws.ec2"),
    pytest.param(_set_source, "custom.attacker", id="source-custom"),
    pytest.param(_set_detail_type, "AWS Service Event via CloudTrail", id="detail-type-service"),
    pytest.param(_set_detail_type, "AWS Console Sign In via CloudTrail", id="detail-type-signin"),
    pytest.param(_set_detail_type, "aws api call via cloudtrail", id="detail-type-lowercase"),
    pytest.param(_set_event_name, "GetTrail", id="eventName-GetTrail"),
    pytest.param(_set_event_name, "DescribeTrails", id="eventName-DescribeTrails"),
    pytest.param(_set_event_name, "CreateTrail", id="eventName-CreateTrail"),
    pytest.param(_set_event_name, "stoplogging", id="eventName-lowercase"),
    pytest.param(_set_event_source, "ec2.amazonaws.com", id="eventSource-ec2"),
]


@pytest.mark.parametrize("name", ATTACK_EVENTS)
@pytest.mark.parametrize(("mutate", "value"), MUTATIONS)
def test_mutated_event_matches_no_rule(name: str, mutate: Any, value: str) -> None:
    event = read_event(name)
    assert matching(event), "precondition: the unmutated event matches a rule"
    mutate(event, value)
    assert matching(event) == set()


@pytest.mark.parametrize("name", ATTACK_EVENTS)
def test_event_name_counts_only_from_its_own_service(name: str) -> None:
    """StopLogging reported as an IAM call (or any such cross-wiring) matches nothing."""
    original = read_event(name)
    for source, event_source in SOURCES.items():
        if source == original["source"]:
            continue
        event = copy.deepcopy(original)
        event["source"] = source
        event["detail"]["eventSource"] = event_source
        assert matching(event) == set(), (source, event["detail"]["eventName"])


@pytest.mark.parametrize("name", ATTACK_EVENTS)
@pytest.mark.parametrize("error_code", [None, "AccessDenied"], ids=["errorCode-null", "denied"])
def test_outcome_fields_do_not_change_delivery(name: str, error_code: str | None) -> None:
    """errorCode absent, null or set: the same rules deliver the event (section 4)."""
    event = read_event(name)
    event["detail"]["errorCode"] = error_code
    assert matching(event) == EXPECTED_RULES[name]
    del event["detail"]["errorCode"]
    assert matching(event) == EXPECTED_RULES[name]


# ------------------------------------------------------------------ pattern shape

Leaf = tuple[tuple[str, ...], Any]


def _leaf_filters(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[Leaf]:
    found: list[Leaf] = []
    for key, value in node.items():
        assert key != "$or", f"$or at {'.'.join(path) or '<root>'}: keep patterns flat"
        if isinstance(value, dict):
            found.extend(_leaf_filters(value, (*path, key)))
        else:
            found.append(((*path, key), value))
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_pattern_has_no_arrays_of_objects(rule: Rule) -> None:
    """Every leaf is a non-empty array of scalars or known one-key content filters."""
    leaves = _leaf_filters(rule.pattern)
    assert leaves
    for path, filters in leaves:
        assert isinstance(filters, list) and filters, f"{'.'.join(path)}: not a non-empty array"
        for item in filters:
            if isinstance(item, dict):
                assert len(item) == 1 and set(item) <= KNOWN_OPERATORS, (
                    f"{'.'.join(path)}: an array of objects that are not content filters: {item}"
                )
                assert not any(isinstance(v, dict) for v in as_values(item)), item
            else:
                assert isinstance(item, (str, int, float, bool)) or item is None, item


def as_values(item: dict[str, Any]) -> list[Any]:
    value = next(iter(item.values()))
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_pattern_paths_never_cross_arrays_in_the_events(rule: Rule) -> None:
    """moto flattens objects but not arrays: a path into an array of objects never matches."""
    for name in ATTACK_EVENTS:
        event = read_event(name)
        for path, _ in _leaf_filters(rule.pattern):
            node: Any = event
            for key in path:
                assert not isinstance(node, list), f"{'.'.join(path)} crosses an array in {name}"
                if not isinstance(node, dict) or key not in node:
                    break
                node = node[key]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_pattern_pins_source_detail_type_and_event_source(rule: Rule) -> None:
    pattern = rule.pattern
    assert pattern["detail-type"] == [DETAIL_TYPE]
    [source] = pattern["source"]
    assert pattern["detail"]["eventSource"] == [SOURCES[source]]
    names = pattern["detail"]["eventName"]
    assert names and all(isinstance(n, str) and n[:1].isupper() for n in names), names
    assert len(set(names)) == len(names), f"duplicate event names: {names}"
    assert not any(n.startswith(("Get", "List", "Describe", "Lookup")) for n in names), (
        "read-only calls are never sent to EventBridge (docs/aws-facts.md)"
    )


def test_event_names_are_exactly_those_the_handlers_act_on() -> None:
    """A name in a pattern that no service handles would only ever be rejected, and a
    name a service handles but no pattern delivers would never be seen."""
    names = {key: set(rule.pattern["detail"]["eventName"]) for key, rule in RULES_BY_KEY.items()}
    assert names[TRUSTED_ACCESS] == {"DisableAWSServiceAccess"} | set(ORG_DELEGATED_ADMIN_EVENTS)
    assert names[SERVICE_LINKED_ROLE] == {"DeleteServiceLinkedRole"}
    assert names[TRAIL] == set(ASPECTS_BY_EVENT) | set(DELEGATED_ADMIN_EVENTS)
    watched = set(SILENCING) | set(ALTERING)
    for key in SELF_PROTECTION:
        assert {base_name(n) for n in names[key]} <= watched, key
    assert set().union(*({base_name(n) for n in names[key]} for key in SELF_PROTECTION)) == watched
    assert names[BUCKET] | names[KEY] | names[LOG_GROUP] == set(PART_BY_EVENT)
