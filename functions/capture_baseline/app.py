"""Captures the protected trails' baselines: at deployment, or when an operator asks.

Deployment (CloudFormation custom resource, Create/Update): trails without a
baseline get one; existing baselines are kept, so a redeploy never adopts a
tampered trail. Operator invocation `{"action": "capture", "reason": "..."}`
replaces the baselines with live state: that is the deliberate change.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from trailguard.domain.alerts import now
from trailguard.domain.text import clean_text
from trailguard.engine.capture import capture
from trailguard.engine.custom_resource import (
    answer_in_time,
    is_custom_resource_request,
    respond,
)
from trailguard.runtime import dependencies

logger = Logger(service="trailguard")
PHYSICAL_ID = "trailguard-baseline"


def _capture(replace: bool, captured_by: str, reason: str) -> dict[str, Any]:
    deps = dependencies()
    report = capture(
        deps.trails,
        deps.baselines,
        deps.settings,
        captured_at=now().isoformat(),
        captured_by=captured_by,
        reason=reason,
        replace_existing=replace,
        announce=deps.alerts,  # every capture is alerted, with its diff and who asked
        chains=deps.chain,
    )
    logger.info("baseline capture", extra=report.as_dict())
    return {"ok": report.ok, **report.as_dict()}


# CloudFormation's RequestId names every log line of a deploy-time capture.
@logger.inject_lambda_context(log_event=False, correlation_id_path="RequestId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_custom_resource_request(event):
        if event["RequestType"] == "Delete":
            # Baselines outlive the stack (the table is retained): nothing to undo.
            respond(event, "SUCCESS", "baselines retained", {}, PHYSICAL_ID)
            return {"ok": True}
        outcome: dict[str, Any] = {}

        def work() -> tuple[str, str, dict[str, Any]]:
            result = _capture(False, "cloudformation", f"stack {event['RequestType']}")
            outcome.update(result)
            status = "SUCCESS" if result["ok"] else "FAILED"
            reason = "; ".join(result["missing"]) or f"captured {len(result['captured'])}"
            return status, reason, {"Captured": len(result["captured"])}

        try:
            answer_in_time(event, context, work, PHYSICAL_ID)
        except Exception:
            logger.exception("baseline capture failed")
            raise
        return outcome
    if not isinstance(event, dict) or event.get("action") != "capture":
        logger.warning("unknown request, no action")
        return {"ok": False, "reason": "expected a custom resource request or action=capture"}
    reason = clean_text(event.get("reason"), 200) or "operator request"
    # Lambda does not tell a function who invoked it: the name given is the caller's
    # word, and the alert says so (the Invoke is in CloudTrail as a data event).
    asked = clean_text(event.get("requestedBy"), 128) or "not given"
    return _capture(True, f"operator (direct invocation; says: {asked})", reason)
