from __future__ import annotations

import pytest

from trailguard.settings import SettingsError, settings_from

VALID = {
    "AWS_REGION": "us-east-1",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:alerts",
    "BASELINE_TABLE_NAME": "baselines",
    "PROTECTED_TRAIL_NAMES": "org-trail, second.trail",
    "ALLOWED_PRINCIPAL_ARNS": "arn:aws:iam::111111111111:role/iac-deploy",
    "REMEDIATOR_ROLE_ARNS": "arn:aws:iam::111111111111:role/trailguard-RestoreTrailRole-X",
    "DETECT_ONLY": "false",
}


def test_valid_environment_becomes_typed_settings() -> None:
    settings = settings_from(VALID)

    assert settings.protected_trail_names == ("org-trail", "second.trail")
    assert settings.detect_only is False
    assert not settings.protects_every_organization_trail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_REGION", ""),
        ("ALERT_TOPIC_ARN", "alerts"),
        ("BASELINE_TABLE_NAME", ""),
        ("PROTECTED_TRAIL_NAMES", "bad name"),
        ("ALLOWED_PRINCIPAL_ARNS", "root"),
        ("REMEDIATOR_ROLE_ARNS", "arn:aws:iam::111111111111:user/x"),
        ("DETECT_ONLY", "maybe"),
    ],
)
def test_invalid_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings_from({**VALID, name: value})
