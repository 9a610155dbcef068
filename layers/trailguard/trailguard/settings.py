"""Typed settings, read from the environment once per execution environment.

Validation happens on the first invocation (the cold start) so that a broken
deployment fails loudly there instead of half-working on some events.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/:*-]+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")
_BUS_ARN = re.compile(r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._/-]{1,256}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_EVENT_BUS = re.compile(
    r"^([\w.-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[\w.-]{1,256})$"
)


class SettingsError(ValueError):
    """The function's configuration is unusable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    region: str
    alert_topic_arn: str
    baseline_table_name: str
    ledger_table_name: str  # '' disables duplicate suppression (logged at cold start)
    protected_trail_names: tuple[str, ...]
    allowed_principal_arns: tuple[str, ...]
    remediator_role_arns: tuple[str, ...]
    detect_only: bool
    alert_on_other_service_principals: bool
    stack_name: str = ""  # names trailguard's own resources (self-protection)
    # I7: no digest file for this long while logging is drift. CloudTrail delivers a
    # digest file every hour, also in a quiet account (User Guide, "CloudTrail digest
    # files"); two hours is one missed digest plus an hour of delivery delay.
    delivery_stale_after_minutes: int = 120
    alert_key_arn: str = ""  # the alert topic's KMS key, watched and repaired (self-protection)
    witness_bus_arn: str = ""  # '' : no witness; else every alert and heartbeat go there too
    # Alert destinations besides the alert topic (engine/destinations.py).
    alert_event_bus: str = "default"  # every alert is also put on this bus
    chat_topic_arn: str = ""  # '' sends no chat notifications
    security_hub_findings: bool = False
    log_group_name: str = ""  # the function's log group, linked from alerts
    # The account that owns the trail's bucket and key when it is not this one, and the
    # log-archive companion's role there ('' : the chain is in the management account).
    log_archive_account_id: str = ""
    log_archive_role_arn: str = ""
    signing_key_id: str = ""  # KMS HMAC key of the baselines ('' : reads report it, CRITICAL)

    @property
    def protects_every_organization_trail(self) -> bool:
        return not self.protected_trail_names


def _split(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def settings_from(env: Mapping[str, str]) -> Settings:
    region = _required(env, "AWS_REGION")
    if not _REGION.match(region):
        raise SettingsError(f"AWS_REGION is not a region: {region!r}")
    topic = _required(env, "ALERT_TOPIC_ARN")
    if not _TOPIC_ARN.match(topic):
        raise SettingsError(f"ALERT_TOPIC_ARN is not an SNS topic ARN: {topic!r}")
    names = _split(env.get("PROTECTED_TRAIL_NAMES", ""))
    for name in names:
        if not _TRAIL_NAME.match(name):
            raise SettingsError(f"PROTECTED_TRAIL_NAMES has an invalid trail name: {name!r}")
    allowed = _split(env.get("ALLOWED_PRINCIPAL_ARNS", ""))
    for arn in allowed:
        if not _PRINCIPAL_ARN.match(arn):
            raise SettingsError(f"ALLOWED_PRINCIPAL_ARNS has an invalid ARN: {arn!r}")
    own_roles = _split(env.get("REMEDIATOR_ROLE_ARNS", ""))
    for arn in own_roles:
        if not _ROLE_ARN.match(arn):
            raise SettingsError(f"REMEDIATOR_ROLE_ARNS has an invalid role ARN: {arn!r}")
    archive_account, archive_role = _log_archive(env)
    if archive_role:
        # The companion role's calls are trailguard's own repairs echoing back.
        own_roles += (archive_role,)
    return Settings(
        region=region,
        alert_topic_arn=topic,
        baseline_table_name=_required(env, "BASELINE_TABLE_NAME"),
        ledger_table_name=env.get("LEDGER_TABLE_NAME", "").strip(),
        protected_trail_names=names,
        allowed_principal_arns=allowed,
        remediator_role_arns=own_roles,
        detect_only=_flag(env, "DETECT_ONLY", False),
        alert_on_other_service_principals=_flag(env, "ALERT_ON_OTHER_SERVICE_PRINCIPALS", False),
        stack_name=_stack_name(env),
        alert_key_arn=_optional(env, "ALERT_KEY_ARN", _KEY_ARN, "a KMS key ARN"),
        witness_bus_arn=_optional(env, "WITNESS_BUS_ARN", _BUS_ARN, "an event bus ARN"),
        alert_event_bus=_event_bus(env),
        chat_topic_arn=_chat_topic(env),
        security_hub_findings=_flag(env, "SECURITY_HUB_FINDINGS", False),
        # Set by Lambda: the function's log group (its LoggingConfig's, when it has one).
        log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME", "").strip()[:512],
        log_archive_account_id=archive_account,
        log_archive_role_arn=archive_role,
        delivery_stale_after_minutes=_minutes(env, "DELIVERY_STALE_AFTER_MINUTES", 120),
        signing_key_id=env.get("BASELINE_SIGNING_KEY_ID", "").strip(),
    )


def _chat_topic(env: Mapping[str, str]) -> str:
    chat = env.get("CHAT_TOPIC_ARN", "").strip()
    if chat and not _TOPIC_ARN.match(chat):
        raise SettingsError(f"CHAT_TOPIC_ARN is not an SNS topic ARN: {chat!r}")
    return chat


def _event_bus(env: Mapping[str, str]) -> str:
    bus = env.get("ALERT_EVENT_BUS", "").strip() or "default"
    if not _EVENT_BUS.match(bus):
        raise SettingsError(f"ALERT_EVENT_BUS is not an event bus name or ARN: {bus!r}")
    return bus


def _optional(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = env.get(name, "").strip()
    if value and not pattern.match(value):
        raise SettingsError(f"{name} is not {what}: {value!r}")
    return value


def _log_archive(env: Mapping[str, str]) -> tuple[str, str]:
    account = env.get("LOG_ARCHIVE_ACCOUNT_ID", "").strip()
    role = env.get("LOG_ARCHIVE_ROLE_ARN", "").strip()
    if account and not _ACCOUNT.match(account):
        raise SettingsError(f"LOG_ARCHIVE_ACCOUNT_ID is not an account id: {account!r}")
    if role and not _ROLE_ARN.match(role):
        raise SettingsError(f"LOG_ARCHIVE_ROLE_ARN is not a role ARN: {role!r}")
    if bool(account) != bool(role) or (role and role.split(":")[4] != account):
        raise SettingsError(
            "LOG_ARCHIVE_ACCOUNT_ID and LOG_ARCHIVE_ROLE_ARN go together: the role of the "
            "log-archive companion in that account"
        )
    return account, role


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 60 <= int(raw) <= 24 * 60:
        raise SettingsError(f"{name} must be whole minutes between 60 and 1440, got {raw!r}")
    return int(raw)


def _stack_name(env: Mapping[str, str]) -> str:
    name = env.get("STACK_NAME", "").strip()
    if name and not _STACK_NAME.match(name):
        raise SettingsError(f"STACK_NAME is not a CloudFormation stack name: {name!r}")
    return name


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(os.environ)
