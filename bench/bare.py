"""The floor: a bare Lambda handler that does the minimum with botocore and nothing else.

No library, no settings validation, no event parsing beyond the trail name, no
delivery ledger, no baseline lookup, no state read before acting. Only the two
clients its repairs need (CloudTrail and SNS), made on first use from one
botocore session, as lazily as trailguard's. It is what "the same job, done as
cheaply as the AWS SDK allows" costs, so the benchmark can show what
trailguard's extra work costs on top.
"""

from __future__ import annotations

import json
import os
from typing import Any

import botocore.session
from botocore.config import Config

REGION = os.environ.get("AWS_REGION", "us-east-1")
_SESSION = botocore.session.get_session()
_CLIENTS: dict[str, Any] = {}
_CONFIG = Config(user_agent_extra="bench-bare/1")


def client(service: str) -> Any:
    if service not in _CLIENTS:
        _CLIENTS[service] = _SESSION.create_client(service, region_name=REGION, config=_CONFIG)
    return _CLIENTS[service]


def _alert(subject: str, event: dict[str, Any], **facts: Any) -> None:
    client("sns").publish(
        TopicArn=os.environ["ALERT_TOPIC_ARN"],
        Subject=subject,
        Message=json.dumps({"eventID": event["detail"]["eventID"], **facts}),
    )


def repair_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """StopLogging: StartLogging, GetTrailStatus (verify), Publish. Three calls."""
    name = event["detail"]["requestParameters"]["name"]
    cloudtrail = client("cloudtrail")
    cloudtrail.start_logging(Name=name)
    logging_again = bool(cloudtrail.get_trail_status(Name=name)["IsLogging"])
    _alert("StopLogging: trail restarted", event, trail=name, verified=logging_again)
    return {"outcome": "repaired" if logging_again else "failed"}


def recreate_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DeleteTrail: CreateTrail, PutEventSelectors, PutInsightSelectors, StartLogging,
    then GetTrail, GetTrailStatus, GetEventSelectors, GetInsightSelectors, ListTags
    (verify) and Publish. Ten calls, one after another, as a straightforward script
    makes them; the baseline is given (BENCH_TRAIL_BASELINE)."""
    baseline = json.loads(os.environ["BENCH_TRAIL_BASELINE"])
    cloudtrail = client("cloudtrail")
    arn = cloudtrail.create_trail(**baseline["create"])["TrailARN"]
    cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=baseline["event_selectors"])
    cloudtrail.put_insight_selectors(TrailName=arn, InsightSelectors=baseline["insight_selectors"])
    cloudtrail.start_logging(Name=arn)
    trail = cloudtrail.get_trail(Name=arn)["Trail"]
    logging_again = bool(cloudtrail.get_trail_status(Name=arn)["IsLogging"])
    cloudtrail.get_event_selectors(TrailName=arn)
    cloudtrail.get_insight_selectors(TrailName=arn)
    cloudtrail.list_tags(ResourceIdList=[arn])
    verified = logging_again and trail["S3BucketName"] == baseline["create"]["S3BucketName"]
    _alert("DeleteTrail: trail recreated", event, trail=arn, verified=verified)
    return {"outcome": "repaired" if verified else "failed"}
