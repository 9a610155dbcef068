"""Scheduled safety net: check every invariant, repair drift no event reported."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.adapters.witness import HEARTBEAT, tell_witness
from trailguard.domain.alerts import now
from trailguard.engine.heartbeat import heartbeat
from trailguard.engine.reconciler import ReconcileReport, reconcile
from trailguard.errors import RemediationFailed
from trailguard.protected.trailguard_itself import check_alert_key
from trailguard.runtime import dependencies

logger = Logger(service="trailguard")
metrics = Metrics()


def _tell_witness(
    report: ReconcileReport | None, account_id: str, error: str = "", alert_key: str = ""
) -> None:
    """Every run, whatever it found: the witness alarms when heartbeats stop."""
    settings = dependencies().settings
    if not settings.witness_bus_arn:
        return
    detail = heartbeat(report, settings, account_id, now(), error=error, alert_key=alert_key)
    if not tell_witness(settings.witness_bus_arn, HEARTBEAT, detail):
        metrics.add_metric(name="WitnessNotReached", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=True)
# The scheduled event's id names every log line of this run (Powertools correlation_id).
@logger.inject_lambda_context(log_event=False, correlation_id_path="id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The heartbeat goes out first: its alarm must tell "not running" apart from
    # "running but failing" (that one has its own errors alarm).
    metrics.add_metric(name="ReconcilerHeartbeat", unit=MetricUnit.Count, value=1)
    account_id = context.invoked_function_arn.split(":")[4]
    try:
        report = reconcile(dependencies(), account_id)
        # The alert path too: a disabled key silences every alert, and its event may
        # never have been delivered (the self-tampering rule deleted first).
        alert_key = check_alert_key(dependencies(), account_id)
    except Exception as exc:
        _tell_witness(None, account_id, f"{type(exc).__name__}: {exc}")
        raise
    if alert_key == "broken":
        report.failures.append(f"{dependencies().settings.alert_key_arn}: alert key unusable")
    _tell_witness(report, account_id, alert_key=alert_key)
    metrics.add_metric(name="DriftRepairedBySchedule", unit=MetricUnit.Count, value=report.repaired)
    metrics.add_metric(name="ReconcileFailures", unit=MetricUnit.Count, value=len(report.failures))
    if report.failures:
        # CRITICAL alerts are already out; failing the run makes the errors alarm fire.
        raise RemediationFailed("; ".join(report.failures))
    return report.summary()
