"""The template's alert destinations, dashboard, custom resource deadline, Serverless
Application Repository metadata, `make package`, the landing-zone presets and the CfCT
manifest, and the README examples rendered by the code."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import trailguard
from drill.template import ROOT, functions
from scripts import destination_examples
from trailguard.settings import settings_from

ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:alerts",
    "BASELINE_TABLE_NAME": "baselines",
}
TRAILGUARD_SOURCES = [
    *(ROOT / "layers/trailguard/trailguard").rglob("*.py"),
    *(ROOT / "functions").rglob("*.py"),
]


# ------------------------------------------------------------------ destinations


def test_chat_topic_exists_only_when_asked_and_is_encrypted(resources: dict[str, Any]) -> None:
    topic = resources["ChatTopic"]
    assert topic["Condition"] == "HasChatTopic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    policy = resources["ChatTopicPolicy"]
    assert policy["Condition"] == "HasChatTopic"
    [deny_others] = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "OnlyTrailguardFunctionsPublish"
    ]
    assert deny_others["Effect"] == "Deny"
    allowed = deny_others["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    alerting_roles = {
        f["Role"]["Fn::GetAtt"][0]
        for f in functions().values()
        if "handle_api_call" in (ROOT / f["CodeUri"] / "app.py").read_text()
        or "reconcile" in f["CodeUri"]
        or "capture" in f["CodeUri"]  # every capture is alerted
    }
    assert {a["Fn::GetAtt"][0] for a in allowed} == alerting_roles


def test_event_bus_grant_is_for_trailguard_events_on_the_default_bus(
    resources: dict[str, Any],
) -> None:
    grants = [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        if "PolicyDocument" in policy
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Action") == "events:PutEvents"
    ]
    assert len(grants) == 7  # the functions that alert, the capture function too
    for statement in grants:
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}"
            ":event-bus/default"
        }
        assert statement["Condition"] == {"StringEquals": {"events:source": "trailguard"}}


def test_findings_grant_exists_only_with_security_hub_findings_on(
    resources: dict[str, Any],
) -> None:
    conditional = [
        policy["Fn::If"]
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        if "Fn::If" in policy
    ]
    assert len(conditional) == 7  # the functions that alert, the capture function too
    grants = []
    for condition, policy, otherwise in conditional:
        assert condition == "SendsSecurityHubFindings"
        assert otherwise == {"Ref": "AWS::NoValue"}
        [statement] = policy["PolicyDocument"]["Statement"]
        assert statement["Action"] == "securityhub:BatchImportFindings"
        grants.append(statement)
    for statement in grants:
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}"
            ":product/${AWS::AccountId}/default"
        }


def test_destination_parameters_reach_the_settings(template: dict[str, Any]) -> None:
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["SECURITY_HUB_FINDINGS"] == {"Ref": "SecurityHubFindings"}
    assert environment["CHAT_TOPIC_ARN"] == {"Fn::If": ["HasChatTopic", {"Ref": "ChatTopic"}, ""]}
    for name in ("ChatNotifications", "SecurityHubFindings"):
        assert template["Parameters"][name]["AllowedValues"] == ["true", "false"]
        assert template["Parameters"][name]["Default"] == "false"
    settings = settings_from(
        {
            **ENVIRONMENT,
            "SECURITY_HUB_FINDINGS": "true",
            "CHAT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:chat",
        }
    )
    assert settings.security_hub_findings
    assert settings.chat_topic_arn.endswith(":chat")
    assert settings.alert_event_bus == "default"


# ------------------------------------------------------------------ dashboard


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    # Substitutions are names and numbers; any placeholder keeps the JSON valid.
    return dict(json.loads(re.sub(r"\$\{[^}]+\}", "1", body)))


def test_dashboard_plots_metrics_that_trailguard_emits(template: dict[str, Any]) -> None:
    dashboard = _dashboard(template)
    named = {
        row[1]
        for widget in dashboard["widgets"]
        for row in widget.get("properties", {}).get("metrics", [])
        if len(row) > 1 and row[0] in ("trailguard", ".") and isinstance(row[1], str)
    }
    assert named >= {
        "Outcome_repaired",
        "RemediationsFailed",
        "BlindWindowSeconds",
        "SecondsToRepair",
        "ReconcilerHeartbeat",
    }
    code = "\n".join(path.read_text() for path in TRAILGUARD_SOURCES)
    for name in named:
        emitted = (
            name in code
            or (name.startswith("Outcome_") and 'f"Outcome_{' in code)
            or (name.startswith("AlertDestinationFailed_") and "AlertDestinationFailed_{" in code)
        )
        assert emitted, f"the dashboard plots {name}, which nothing emits"
    titles = " ".join(w.get("properties", {}).get("title", "") for w in dashboard["widgets"])
    for topic in ("Repairs", "Failures", "Blind windows", "heartbeat", "Time to repair"):
        assert topic in titles


# ------------------------------------------------------------------ custom resource


def test_custom_resource_has_a_service_timeout_beyond_the_functions(
    resources: dict[str, Any],
) -> None:
    timeout = resources["BaselineCapture"]["Properties"]["ServiceTimeout"]
    capture = resources["CaptureBaselineFunction"]["Properties"]["Timeout"]
    # The function answers before its own timeout; ServiceTimeout is the backstop for a
    # function that never runs, and CloudFormation accepts at most an hour.
    assert capture < timeout <= 3600


# ------------------------------------------------------------------ distribution


def test_serverless_application_repository_metadata(template: dict[str, Any]) -> None:
    application = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert application["Name"] == "trailguard"
    assert application["SpdxLicenseId"] == "Apache-2.0"
    assert application["SemanticVersion"] == trailguard.__version__
    assert application["Author"] and application["Description"]
    license_text = (ROOT / application["LicenseUrl"]).read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert (ROOT / application["ReadmeUrl"]).is_file()


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_package_refuses_to_guess_where_artifacts_go() -> None:
    result = _make("package", "S3_BUCKET=", "RESOLVE_S3=")

    assert result.returncode != 0
    assert "S3_BUCKET=<bucket>" in result.stderr
    assert "sam build" not in result.stdout


@pytest.mark.parametrize(
    ("arguments", "target"),
    [
        (["S3_BUCKET=my-artifacts"], "--s3-bucket my-artifacts --s3-prefix trailguard"),
        (["S3_BUCKET=b", "S3_PREFIX=tg/1"], "--s3-bucket b --s3-prefix tg/1"),
        (["RESOLVE_S3=1"], "--resolve-s3"),
    ],
)
def test_make_package_builds_then_packages(arguments: list[str], target: str) -> None:
    result = _make("-n", "package", *arguments)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [build] = [i for i, line in enumerate(lines) if "sam build --build-dir .aws-sam/build" in line]
    [package] = [i for i, line in enumerate(lines) if " package " in line and "sam" in line]
    assert build < package
    assert lines[package].endswith(
        f"package --template-file .aws-sam/build/template.yaml {target} "
        "--output-template-file .aws-sam/packaged.yaml"
    )


# ------------------------------------------------------------------ landing zones

LANDING_ZONES = ROOT / "landing-zones"


def _presets() -> dict[str, str]:
    """Each preset's value, by the heading it is under."""
    text = (LANDING_ZONES / "presets.md").read_text()
    found: dict[str, str] = {}
    for heading, section in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        blocks = re.findall(r"^```\n(arn:.+?)\n```", section, re.M)
        if blocks:
            [found[heading]] = blocks
    return found


def test_presets_cover_the_three_landing_zones() -> None:
    assert set(_presets()) == {
        "AWS Control Tower",
        "Landing Zone Accelerator on AWS",
        "AWS Security Reference Architecture (SRA) code examples",
    }


@pytest.mark.parametrize("name", sorted(_presets()))
def test_preset_is_a_valid_parameter_value(template: dict[str, Any], name: str) -> None:
    value = _presets()[name]
    pattern = template["Parameters"]["AllowedPrincipalArns"]["AllowedPattern"]
    assert re.fullmatch(pattern, value), "CloudFormation would refuse it"
    settings = settings_from({**ENVIRONMENT, "ALLOWED_PRINCIPAL_ARNS": value})
    assert len(settings.allowed_principal_arns) == value.count(",") + 1
    assert all(":role/" in arn and ":111111111111:" in arn for arn in value.split(","))


def test_cfct_manifest_deploys_this_template_with_valid_parameters(
    template: dict[str, Any],
) -> None:
    path = LANDING_ZONES / "customizations-for-control-tower/manifest.yaml"
    manifest = yaml.safe_load(path.read_text())
    assert str(manifest["version"]) == "2021-03-15"  # unquoted, as CfCT's examples write it
    [resource] = manifest["resources"]
    assert resource["deploy_method"] == "stack_set"
    assert resource["deployment_targets"]["accounts"] == ["111111111111"]
    parameters = {p["parameter_key"]: p["parameter_value"] for p in resource["parameters"]}
    for key, value in parameters.items():
        spec = template["Parameters"][key]
        if "AllowedValues" in spec:
            assert value in spec["AllowedValues"], key
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), key
    assert parameters["AllowedPrincipalArns"] == _presets()["AWS Control Tower"]


# ------------------------------------------------------------------ README examples


def test_readme_destination_examples_are_what_the_code_renders(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())

    assert destination_examples.main(["--check"], readme=readme) == 0
    for example in destination_examples.examples():
        assert example.section in readme.read_text()


@pytest.mark.sam_tools
def test_make_package_writes_a_template_with_every_artifact_in_s3(tmp_path: Path) -> None:
    """The real `make package`, its S3 being a moto server on 127.0.0.1 (sam package
    always uploads; this is the offline stand-in for the artifacts bucket)."""
    import socket
    import sys
    import threading

    import boto3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    environment = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for _ in range(100):
            try:
                s3.create_bucket(Bucket="trailguard-artifacts")
                break
            except Exception:
                # Not time.sleep: the suite's autouse fixture replaces it (tests/conftest.py).
                threading.Event().wait(0.1)
        packaged = tmp_path / "packaged.yaml"
        result = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "package",
                "S3_BUCKET=trailguard-artifacts",
                f"SAM_BUILD_DIR={tmp_path / 'build'}",
                f"PACKAGED={packaged}",
            ],
            cwd=ROOT,
            env={**__import__("os").environ, **environment},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        text = packaged.read_text()
        uploaded = {o["Key"] for o in s3.list_objects_v2(Bucket="trailguard-artifacts")["Contents"]}
    finally:
        server.terminate()
        server.wait(timeout=10)
    locations = re.findall(
        r"(CodeUri|ContentUri|LicenseUrl|ReadmeUrl): s3://trailguard-artifacts/(\S+)", text
    )
    assert [kind for kind, _ in locations].count("CodeUri") == len(functions())
    assert {kind for kind, _ in locations} == {"CodeUri", "ContentUri", "LicenseUrl", "ReadmeUrl"}
    assert {key for _, key in locations} <= uploaded
