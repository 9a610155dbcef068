"""Composition root: real adapters wired from validated settings, once per cold start."""

from __future__ import annotations

import logging
from functools import lru_cache

from trailguard.adapters.baseline_store import DynamoBaselineStore
from trailguard.adapters.cloudtrail import CloudTrailGateway, EventHistoryGateway
from trailguard.adapters.cloudwatch import AlarmsGateway
from trailguard.adapters.delivery_chain import DeliveryChainGateway
from trailguard.adapters.delivery_ledger import DynamoDeliveryLedger
from trailguard.adapters.event_records import EventRecordsGateway
from trailguard.adapters.events_rules import RulesGateway
from trailguard.adapters.health_store import DynamoHealthStore
from trailguard.adapters.iam import IamGateway
from trailguard.adapters.kms import KmsKeyGateway
from trailguard.adapters.organizations import OrganizationsGateway
from trailguard.adapters.signing import KmsSigner
from trailguard.adapters.sns import SnsAlertSink
from trailguard.adapters.witness import WitnessAlertSink
from trailguard.engine.destinations import Metric, build_publisher, powertools_metric
from trailguard.engine.remediation import Dependencies
from trailguard.ports import AlertSink, OwnResources
from trailguard.settings import Settings, get_settings


def build_dependencies(
    settings: Settings, alerts: AlertSink | None = None, metric: Metric | None = None
) -> Dependencies:
    """The real adapters for `settings`: the functions' wiring, and the CLI's.

    Without `alerts`, alerts go to every destination the settings name
    (engine/destinations.py); the command line passes its own alert topic."""
    ledger = None
    health = None
    if settings.ledger_table_name:
        ledger = DynamoDeliveryLedger(settings.ledger_table_name, settings.region)
        health = DynamoHealthStore(settings.ledger_table_name, settings.region)
    return Dependencies(
        ledger=ledger,
        settings=settings,
        trusted_access=OrganizationsGateway(),
        trails=CloudTrailGateway(),
        roles=IamGateway(),
        baselines=DynamoBaselineStore(
            settings.baseline_table_name,
            settings.region,
            KmsSigner(settings.signing_key_id, settings.region),
        ),
        alerts=alerts or build_publisher(settings, metric, topic=_alert_sink(settings)),
        own=OwnResources(
            alert_key=KmsKeyGateway(settings.region),
            alarms=AlarmsGateway(settings.region),
            rules=RulesGateway(settings.region),
        ),
        chain=DeliveryChainGateway(
            settings.region, settings.log_archive_account_id, settings.log_archive_role_arn
        ),
        health=health,
        history=EventHistoryGateway(),
        # Allow-listed changes are recaptured only when Event history holds the event.
        event_records=EventRecordsGateway(),
    )


def _alert_sink(settings: Settings) -> AlertSink:
    topic = SnsAlertSink(settings.alert_topic_arn)
    if settings.witness_bus_arn:
        # Out of band: the witness account hears every alert, whatever the topic does.
        return WitnessAlertSink(topic, settings.witness_bus_arn, settings.stack_name)
    return topic


@lru_cache(maxsize=1)
def dependencies() -> Dependencies:
    settings = get_settings()
    if not settings.ledger_table_name:
        logging.getLogger("trailguard").warning(
            "LEDGER_TABLE_NAME is not set: duplicate deliveries are not suppressed"
        )
    return build_dependencies(settings, metric=powertools_metric)


def reset() -> None:
    """Forget settings, adapters and clients (tests change the environment)."""
    from trailguard import clients, settings

    dependencies.cache_clear()
    settings.get_settings.cache_clear()
    clients.reset_clients()
