"""KMS adapter: the trail's key, read and repaired (delivery chain).

`role_arn` is the log-archive companion's role when the key is in that account.
"""

from __future__ import annotations

import json
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.delivery_chain import KeyState
from trailguard.errors import AwsCallFailed

# sts:AssumeRole: every call may act through the log-archive companion's role.
IAM_ACTIONS_READ = frozenset({"kms:DescribeKey", "kms:GetKeyPolicy", "sts:AssumeRole"})
IAM_ACTIONS_WRITE = frozenset({"kms:EnableKey", "kms:CancelKeyDeletion", "kms:PutKeyPolicy"})


class KmsGateway:
    def __init__(self, role_arn: str = "", region: str = "us-east-1") -> None:
        self._role_arn = role_arn
        self._region = region

    def _client(self) -> Any:
        return call(
            "AssumeRole",
            "sts:AssumeRole",
            clients.client_as,
            service="kms",
            region=self._region,
            role_arn=self._role_arn,
        )

    def read(self, key_arn: str) -> KeyState:
        api = self._client()
        try:
            metadata = call("DescribeKey", "kms:DescribeKey", api.describe_key, KeyId=key_arn)[
                "KeyMetadata"
            ]
        except AwsCallFailed as exc:
            if exc.code == "NotFoundException":
                return KeyState(exists=False)
            raise
        policy = call(
            "GetKeyPolicy",
            "kms:GetKeyPolicy",
            api.get_key_policy,
            KeyId=key_arn,
            PolicyName="default",
        )["Policy"]
        return KeyState(
            exists=True, state=str(metadata.get("KeyState", "")), policy=json.loads(policy)
        )

    # EnableKey and CancelKeyDeletion are called in the key's own account (through the
    # companion's role when it is the log-archive account), where its id names it; moto
    # takes only the id for these two.
    def enable(self, key_arn: str) -> None:
        call("EnableKey", "kms:EnableKey", self._client().enable_key, KeyId=_key_id(key_arn))

    def cancel_deletion(self, key_arn: str) -> None:
        call(
            "CancelKeyDeletion",
            "kms:CancelKeyDeletion",
            self._client().cancel_key_deletion,
            KeyId=_key_id(key_arn),
        )

    def put_policy(self, key_arn: str, policy: dict[str, Any]) -> None:
        # The lockout safety check stays on: KMS refuses a policy that would lock the
        # caller out, which is a last guard behind the domain's own (keep_admins).
        call(
            "PutKeyPolicy",
            "kms:PutKeyPolicy",
            self._client().put_key_policy,
            KeyId=key_arn,
            PolicyName="default",
            Policy=json.dumps(policy),
            BypassPolicyLockoutSafetyCheck=False,
        )


def _key_id(key_arn: str) -> str:
    return key_arn.rsplit("/", 1)[-1]
