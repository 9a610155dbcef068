"""S3, KMS and CloudWatch Logs calls that break the trail's delivery chain -> restore it (I8)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.engine.handler import handle_api_call
from trailguard.protected.delivery_chain import protect_delivery_chain

logger = Logger(service="trailguard")
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_api_call(event, protect_delivery_chain, metrics)
