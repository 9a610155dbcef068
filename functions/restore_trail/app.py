"""StopLogging, DeleteTrail, UpdateTrail, Put*Selectors -> restore the trail (I2-I5)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.engine.handler import handle_api_call
from trailguard.protected.trail import baseline_with_claim, protect_trail, reads_for_recreate

logger = Logger(service="trailguard")
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_api_call(
        event,
        protect_trail,
        metrics,
        precondition=baseline_with_claim,
        prefetch=reads_for_recreate,
    )
