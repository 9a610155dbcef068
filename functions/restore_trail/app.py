"""StopLogging, DeleteTrail, UpdateTrail, Put*Selectors -> restore the trail (I2-I5)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.engine.handler import handle_api_call
from trailguard.protected.trail import checked_with_claim, protect_trail, reads_with_claim

logger = Logger(service="trailguard")
metrics = Metrics()


@metrics.log_metrics(capture_cold_start_metric=True)
# The CloudTrail eventID names every log line of this event (Powertools correlation_id).
@logger.inject_lambda_context(log_event=False, correlation_id_path="detail.eventID")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_api_call(
        event,
        protect_trail,
        metrics,
        precondition=checked_with_claim,
        prefetch=reads_with_claim,
    )
