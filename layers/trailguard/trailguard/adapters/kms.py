"""KMS adapter: the alert topic's key, re-enabled when it was disabled or scheduled
for deletion (protected/trailguard_itself.py); and the trail's key, read and
repaired in whichever account owns it (protected/delivery_chain.py), where
`role_arn` is the log-archive companion's role when that account is another one."""

from __future__ import annotations

import json
from typing import Any

from trailguard import clients
from trailguard.adapters.assumed import client_in_chain_account
from trailguard.adapters.aws_errors import call
from trailguard.domain.delivery_chain import KeyState
from trailguard.errors import AwsCallFailed


def key_id(key: str) -> str:
    """The key id of a key ARN (arn:aws:kms:<region>:<account>:key/<id>) or of an id.
    KMS takes either; the client is made in the ARN's region, so the id is enough."""
    return key.rsplit("/", 1)[-1] if key.startswith("arn:") else key


IAM_ACTIONS = frozenset({"kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"})
# Every call may act through the log-archive companion's role (adapters/assumed.py).
IAM_ACTIONS_READ = frozenset({"kms:DescribeKey", "kms:GetKeyPolicy"})
IAM_ACTIONS_WRITE = frozenset({"kms:EnableKey", "kms:CancelKeyDeletion", "kms:PutKeyPolicy"})


class KmsKeyGateway:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self, key: str) -> Any:
        # A key ARN names its region; a bare key id is in the stack's region.
        parts = key.split(":")
        region = parts[3] if key.startswith("arn:") and len(parts) > 3 else self._region
        return clients.client("kms", region)

    def state(self, key: str) -> str:
        response = call(
            "DescribeKey", "kms:DescribeKey", self._client(key).describe_key, KeyId=key_id(key)
        )
        return str(response["KeyMetadata"]["KeyState"])

    def enable(self, key: str) -> None:
        call("EnableKey", "kms:EnableKey", self._client(key).enable_key, KeyId=key_id(key))

    def cancel_deletion(self, key: str) -> None:
        call(
            "CancelKeyDeletion",
            "kms:CancelKeyDeletion",
            self._client(key).cancel_key_deletion,
            KeyId=key_id(key),
        )


class KmsGateway:
    def __init__(self, role_arn: str = "", region: str = "us-east-1") -> None:
        self._role_arn = role_arn
        self._region = region

    def _client(self) -> Any:
        return client_in_chain_account("kms", self._region, self._role_arn)

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
        call("EnableKey", "kms:EnableKey", self._client().enable_key, KeyId=key_id(key_arn))

    def cancel_deletion(self, key_arn: str) -> None:
        call(
            "CancelKeyDeletion",
            "kms:CancelKeyDeletion",
            self._client().cancel_key_deletion,
            KeyId=key_id(key_arn),
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
