"""Self-protection scenarios (issue 10): the alert path attacked, the witness told.

`silence-alert-key`: the attacker disables the alert topic's KMS key, which silences
every alert and every alarm of trailguard at once (SNS cannot encrypt, and refuses
with KMSDisabledException: drill/emulation/alert_path.py). trailguard's first
CRITICAL is sent while the key is still disabled: the topic cannot deliver it, the
witness in the audit account gets it. trailguard then enables the key, verifies
it, and the CRITICAL that says so reaches both on-call and the witness.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from drill.scenarios import Attack, Scenario
from drill.world import ACCOUNT, World


class _AlertKey(Mapping[str, str]):
    """{"<name>": <the deployed alert key's id>}, read when the attack is made: the
    world's key id is known only once the stack is deployed."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getitem__(self, key: str) -> str:
        if key != self._name:
            raise KeyError(key)
        return os.environ["ALERT_KEY_ARN"].rsplit("/", 1)[-1]

    def __iter__(self) -> Iterator[str]:
        return iter((self._name,))

    def __len__(self) -> int:
        return 1


def deploy_witness(world: World) -> None:
    """The witness companion in the audit account, and trailguard told where it is
    (its WitnessBusArn parameter). Kept for the scenarios that follow."""
    from drill.witness import Witness

    if world.witness is None:
        world.witness = Witness(ACCOUNT)
    world.apply_environment(WITNESS_BUS_ARN=world.witness.bus_arn)


SELFPROT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="silence-alert-key",
        title="Disable the alert topic's KMS key: every alert and alarm goes silent",
        sample="disable_alert_key.json",
        attacks=(Attack("kms", "DisableKey", _AlertKey("KeyId")),),
        watches=("alert-key",),
        function_id="AlertSelfTamperingFunction",
        expected_outcomes=(("repaired",),),
        # The topic delivers only what is sent after the key is enabled again.
        expected_alerts=("CRITICAL repaired",),
        note="the first CRITICAL cannot be delivered by the alert topic (KMSDisabledException) "
        "and reaches the witness in the audit account; trailguard enables the key, verifies "
        "it, and the verified CRITICAL reaches both",
        request_parameters=_AlertKey("keyId"),
        setup=deploy_witness,
        expected_witness=("CRITICAL detected", "CRITICAL repaired"),
    ),
)
