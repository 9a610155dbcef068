"""Scheduled safety net: check every invariant, repair drift no event reported."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.engine.reconciler import reconcile
from trailguard.errors import RemediationFailed
from trailguard.runtime import dependencies

logger = Logger(service="trailguard")
metrics = Metrics()


@metrics.log_metrics(capture_cold_start_metric=True)
# The scheduled event's id names every log line of this run (Powertools correlation_id).
@logger.inject_lambda_context(log_event=False, correlation_id_path="id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The heartbeat goes out first: its alarm must tell "not running" apart from
    # "running but failing" (that one has its own errors alarm).
    metrics.add_metric(name="ReconcilerHeartbeat", unit=MetricUnit.Count, value=1)
    account_id = context.invoked_function_arn.split(":")[4]
    report = reconcile(dependencies(), account_id)
    metrics.add_metric(name="DriftRepairedBySchedule", unit=MetricUnit.Count, value=report.repaired)
    metrics.add_metric(name="ReconcileFailures", unit=MetricUnit.Count, value=len(report.failures))
    if report.failures:
        # CRITICAL alerts are already out; failing the run makes the errors alarm fire.
        raise RemediationFailed("; ".join(report.failures))
    return report.summary()
