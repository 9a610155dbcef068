"""LOG_ARCHIVE_ACCOUNT_ID and LOG_ARCHIVE_ROLE_ARN: the companion's account and role."""

from __future__ import annotations

import pytest

from tests.unit.test_settings import VALID
from trailguard.settings import SettingsError, settings_from

ROLE = "arn:aws:iam::222222222222:role/trailguard-log-archive"


def test_the_companions_role_counts_as_trailguards_own() -> None:
    settings = settings_from(
        {**VALID, "LOG_ARCHIVE_ACCOUNT_ID": "222222222222", "LOG_ARCHIVE_ROLE_ARN": ROLE}
    )

    assert (settings.log_archive_account_id, settings.log_archive_role_arn) == (
        "222222222222",
        ROLE,
    )
    # Its repairs in the log-archive account echo back as events: never repaired again.
    assert ROLE in settings.remediator_role_arns


def test_without_a_log_archive_the_chain_is_in_this_account() -> None:
    settings = settings_from({**VALID, "LOG_ARCHIVE_ACCOUNT_ID": "", "LOG_ARCHIVE_ROLE_ARN": ""})
    assert (settings.log_archive_account_id, settings.log_archive_role_arn) == ("", "")


@pytest.mark.parametrize(
    ("account", "role", "named"),
    [
        ("2222", ROLE, "LOG_ARCHIVE_ACCOUNT_ID"),
        ("222222222222", "trailguard-log-archive", "LOG_ARCHIVE_ROLE_ARN"),
        ("222222222222", "", "go together"),
        ("", ROLE, "go together"),
        ("333333333333", ROLE, "go together"),
    ],
)
def test_invalid_log_archive_settings_are_refused(account: str, role: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from({**VALID, "LOG_ARCHIVE_ACCOUNT_ID": account, "LOG_ARCHIVE_ROLE_ARN": role})
