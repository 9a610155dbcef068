"""The delivery chain's links, each in the account that owns it.

The bucket and key live either in the management account (read with the
function's own role) or in the log-archive account, read and repaired through
the companion's role there (companions/log-archive/). A link in any other
account is unreachable: it is reported, never guessed at.
"""

from __future__ import annotations

from trailguard.adapters.kms import KmsGateway
from trailguard.adapters.logs import LogsGateway
from trailguard.adapters.s3 import S3Gateway
from trailguard.domain.delivery_chain import (
    ChainLocation,
    DeliveryChain,
    Part,
    unreachable_advice,
)
from trailguard.errors import AwsCallFailed


class Unreachable(AwsCallFailed):
    """No role trailguard may use reaches the account that owns a link."""


class DeliveryChainGateway:
    """`archive_account` and `archive_role_arn`: the log-archive account and the
    companion's role there ('' when the chain is in the management account)."""

    def __init__(self, region: str, archive_account: str = "", archive_role_arn: str = "") -> None:
        self._region = region
        self._archive_account = archive_account
        self._archive_role_arn = archive_role_arn

    def bucket_account(self, home_account: str) -> str:
        return self._archive_account or home_account

    def _role_for(
        self, account: str, home_account: str, location: ChainLocation, part: Part
    ) -> str:
        if not account or account == home_account:
            return ""
        if account == self._archive_account:
            return self._archive_role_arn
        raise Unreachable(
            "AssumeRole",
            "NoCompanionRole",
            f"no log-archive companion is configured for account {account}",
            unreachable_advice(location, part, home_account),
        )

    def bucket(self, location: ChainLocation, home_account: str) -> S3Gateway:
        role = self._role_for(location.bucket_account, home_account, location, Part.BUCKET)
        return S3Gateway(role, self._region)

    def key(self, location: ChainLocation, home_account: str) -> KmsGateway:
        role = self._role_for(location.key_account, home_account, location, Part.KEY)
        return KmsGateway(role, location.key_region or self._region)

    def logs(self) -> LogsGateway:
        return LogsGateway(self._region)

    def read(
        self, location: ChainLocation, parts: frozenset[Part], home_account: str
    ) -> DeliveryChain:
        """The links asked for. A link whose account cannot be reached, or that
        refuses to be read (AccessDenied), is left None with the reason; any other
        failure is raised."""
        chain = DeliveryChain(location)
        unreadable: dict[str, str] = {}
        bucket = key = group = None
        for part in sorted(parts & location.parts(), key=lambda p: p.value):
            try:
                if part is Part.BUCKET:
                    bucket = self.bucket(location, home_account).read(location.bucket_name)
                elif part is Part.KEY:
                    key = self.key(location, home_account).read(location.key_arn)
                else:
                    group = self.logs().read(location.log_group_name, location.logs_role_arn)
            except AwsCallFailed as exc:
                if not isinstance(exc, Unreachable) and exc.code not in _UNREACHABLE_CODES:
                    raise
                unreadable[part.value] = (
                    f"{exc} ({unreachable_advice(location, part, home_account)})"
                )
        return DeliveryChain(chain.location, bucket, key, group, unreadable)


# Another account's bucket or key answers the management account with AccessDenied,
# and a companion that is not deployed makes AssumeRole answer the same.
# HeadBucket has no body, so its refusal comes back as the bare status code 403.
_UNREACHABLE_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403", "NoCompanionRole"})
