"""Signing baseline versions with a KMS HMAC key (GenerateMac / VerifyMac).

The key (template.yaml, BaselineSigningKey) is an HMAC_256 key whose policy lets
only trailguard's capture and restore roles generate MACs and its restore and
reconcile roles verify them. Anyone who can write the table but not use the key
cannot make an item that verifies. KMS takes at most 4096 bytes per message, so
the caller signs a SHA-256 digest of the item (adapters/baseline_store.py).
"""

from __future__ import annotations

import base64
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.errors import AwsCallFailed

IAM_ACTIONS_WRITE = frozenset({"kms:GenerateMac"})
IAM_ACTIONS_READ = frozenset({"kms:VerifyMac"})
MAC_ALGORITHM = "HMAC_SHA_256"


class KmsSigner:
    def __init__(self, key_id: str, region: str) -> None:
        self._key_id = key_id
        self._region = region

    def _client(self) -> Any:
        return clients.client("kms", self._region)

    def _require_key(self, operation: str) -> None:
        if not self._key_id:
            raise AwsCallFailed(
                operation,
                "NoSigningKey",
                "BASELINE_SIGNING_KEY_ID is not set",
                "redeploy trailguard: its baseline signing key is not configured",
            )

    def sign(self, message: bytes) -> str:
        self._require_key("GenerateMac")
        response = call(
            "GenerateMac",
            "kms:GenerateMac",
            self._client().generate_mac,
            KeyId=self._key_id,
            Message=message,
            MacAlgorithm=MAC_ALGORITHM,
        )
        return base64.b64encode(response["Mac"]).decode("ascii")

    def verify(self, message: bytes, signature: str) -> bool:
        """True when the MAC is valid; False when KMS says it is not.

        Any other failure (the key disabled, access denied) raises: an unverifiable
        baseline must not be mistaken for a forged one, nor for a good one."""
        self._require_key("VerifyMac")
        try:
            mac = base64.b64decode(signature.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            return False
        try:
            response = call(
                "VerifyMac",
                "kms:VerifyMac",
                self._client().verify_mac,
                KeyId=self._key_id,
                Message=message,
                MacAlgorithm=MAC_ALGORITHM,
                Mac=mac,
            )
        except AwsCallFailed as exc:
            if exc.code == "KMSInvalidMacException":
                return False
            raise
        return bool(response.get("MacValid"))
