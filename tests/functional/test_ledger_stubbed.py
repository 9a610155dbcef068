"""The delivery ledger's claim with a precondition, against DynamoDB's own response
shapes (botocore's Stubber): TransactWriteItems cancelled with one reason per item."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.fakes import REF
from trailguard import clients
from trailguard.adapters.delivery_ledger import DynamoDeliveryLedger
from trailguard.errors import AwsCallFailed
from trailguard.ports import Claim, Precondition

REASONS = {
    "baseline missing": [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "None"},
    ],
    "already claimed": [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ],
    "throttled": [{"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throttled"}],
}


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Any:
    stubber = Stubber(boto3.client("dynamodb", region_name="us-east-1"))
    stubber.activate()
    monkeypatch.setattr(clients, "client", lambda service, region: stubber.client)
    yield stubber
    stubber.assert_no_pending_responses()


def _precondition(found: list[bool]) -> Precondition:
    return Precondition("baselines", {"pk": {"S": REF.arn}, "sk": {"S": "CURRENT"}}, found.append)


def _cancelled(stubber: Stubber, reasons: list[dict[str, str]]) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled, please refer cancellation reasons for specific "
        "reasons [ConditionalCheckFailed, None]",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": reasons},
        expected_params={"TransactItems": ANY},
    )


def test_claim_and_check_succeed_in_one_call(dynamodb: Stubber) -> None:
    found: list[bool] = []
    dynamodb.add_response("transact_write_items", {}, {"TransactItems": ANY})

    entry = DynamoDeliveryLedger("ledger", "us-east-1").claim("k", _precondition(found))

    assert entry.claim is Claim.NEW
    assert found == [True]


def test_missing_baseline_claims_nothing_and_says_so(dynamodb: Stubber) -> None:
    found: list[bool] = []
    _cancelled(dynamodb, REASONS["baseline missing"])

    entry = DynamoDeliveryLedger("ledger", "us-east-1").claim("k", _precondition(found))

    assert entry.claim is Claim.NEW
    assert found == [False]


def test_an_earlier_claim_is_read_back(dynamodb: Stubber) -> None:
    found: list[bool] = []
    _cancelled(dynamodb, REASONS["already claimed"])
    dynamodb.add_response(
        "get_item",
        {"Item": {"pk": {"S": "k"}, "state": {"S": "done"}, "summary": {"S": "{}"}}},
        {"TableName": "ledger", "Key": {"pk": {"S": "k"}}, "ConsistentRead": True},
    )

    entry = DynamoDeliveryLedger("ledger", "us-east-1").claim("k", _precondition(found))

    assert entry.claim is Claim.DONE
    assert found == [True]


def test_any_other_cancellation_is_an_error_not_an_answer(dynamodb: Stubber) -> None:
    found: list[bool] = []
    _cancelled(dynamodb, REASONS["throttled"])

    with pytest.raises(AwsCallFailed):
        DynamoDeliveryLedger("ledger", "us-east-1").claim("k", _precondition(found))
    assert found == [True]
