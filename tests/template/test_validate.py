"""template.yaml through the SAM CLI, aws-sam-translator and cfn-lint (docs/testing-offline.md).

Slower than the other template tests (a few seconds each) and dependent on the
SAM CLI venv, so marked `sam_tools`: `pytest -m sam_tools` runs only these,
`pytest -m "not sam_tools"` leaves them out. scripts/check-template.sh runs the
same checks for CI.

`make check-template` records that it passed, with the SHA-256 of every file it
checked and its output, in .template-check/passed. When that record matches the
files as they are now, the tests below read it instead of running the SAM CLI,
cfn-lint and checkov a second time (`make test` runs after `make check-template`
in CI, and depends on it otherwise). A missing tool fails a test, never skips it:
`make check-template` installs them.

cfn-lint 1.x no longer runs the SAM transform: it validates SAM resources
against SAM's schemas. So the template is also transformed with
aws-sam-translator (scripts/sam_transform.py) and the plain CloudFormation
result is linted, which checks the generated rules, invoke configs and queues.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drill.template import ROOT, TEMPLATE, functions

pytestmark = pytest.mark.sam_tools

SAM_VENV = ROOT / ".sam-venv" / "bin"
# What `make check-template` writes when it passes (the Makefile's TEMPLATE_CHECKED and
# TEMPLATE_CHECKED_FILES): `sha256sum` of these files, this marker, the script's output.
CHECKED = ROOT / ".template-check" / "passed"
CHECKED_FILES = (
    "template.yaml",
    "forwarder/template.yaml",
    *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("companions/*/template.yaml")),
    "scripts/check-template.sh",
    "scripts/sam_transform.py",
    "scripts/check_iam.py",
)
# The same list as the Makefile writes it.
CHECKED_FILES_IN_MAKE = (
    "template.yaml forwarder/template.yaml $(sort $(wildcard companions/*/template.yaml)) "
    "scripts/check-template.sh scripts/sam_transform.py scripts/check_iam.py"
)
OUTPUT_MARKER = "--- check-template output\n"
INSTALL_HINT = "`make check-template` installs the SAM CLI (.sam-venv) and checkov, and runs them"
TIMEOUT = 300
# cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
CFN_LINT_ERROR, CFN_LINT_WARNING = 2, 4


def _env() -> dict[str, str]:
    return {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _sha256sum(names: tuple[str, ...]) -> str:
    """What `sha256sum NAME...` prints, run in the repository."""
    return "".join(
        f"{hashlib.sha256((ROOT / name).read_bytes()).hexdigest()}  {name}\n" for name in names
    )


def checked_by_make() -> str:
    """The output of `make check-template` when it passed on exactly the files as they
    are now; '' when it has not, or when a checked file changed since."""
    if not CHECKED.is_file():
        return ""
    hashes, marker, output = CHECKED.read_text().partition(OUTPUT_MARKER)
    if not marker or hashes != _sha256sum(CHECKED_FILES):
        return ""
    return output if "check-template: OK" in output else ""


def _executable(*candidates: Path | str) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, Path):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        elif found := shutil.which(candidate):
            return found
    return None


def _sam() -> str:
    sam = _executable(SAM_VENV / "sam", "sam")
    if sam is None:
        pytest.fail(
            f"SAM CLI not installed (neither .sam-venv/bin/sam nor sam on PATH): {INSTALL_HINT}"
        )
    return sam


def _cfn_lint() -> str:
    cfn_lint = _executable(
        Path(sys.executable).parent / "cfn-lint", SAM_VENV / "cfn-lint", "cfn-lint"
    )
    if cfn_lint is None:
        pytest.fail(
            "cfn-lint not installed: requirements-dev.txt pins it (`make test` installs it)"
        )
    return cfn_lint


def _translator_python() -> str:
    candidates = [sys.executable, str(SAM_VENV / "python")]
    for python in candidates:
        if not Path(python).is_file():
            continue
        probe = _run(python, "-c", "import samtranslator")
        if probe.returncode == 0:
            return python
    pytest.fail(f"aws-sam-translator not importable (it ships with the SAM CLI): {INSTALL_HINT}")


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _assert_lint_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode & CFN_LINT_ERROR == 0, _report(result)
    assert result.returncode & CFN_LINT_WARNING == 0, _report(result)
    assert result.returncode in (0, 8), _report(result)  # anything else: cfn-lint itself failed


@pytest.fixture(scope="module")
def transformed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = _run(_translator_python(), ROOT / "scripts" / "sam_transform.py", TEMPLATE)
    assert result.returncode == 0, _report(result)
    path = tmp_path_factory.mktemp("sam") / "transformed.json"
    path.write_text(result.stdout)
    return path


def test_sam_validate_lint() -> None:
    if output := checked_by_make():
        # make check-template ran it on exactly this template, and it passed.
        assert "== sam validate --lint" in output
        assert "is a valid SAM Template" in output
        return
    result = _run(_sam(), "validate", "--lint", "--template-file", TEMPLATE)
    assert result.returncode == 0, _report(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_on_the_sam_template() -> None:
    if output := checked_by_make():
        assert "== cfn-lint template.yaml" in output
        return
    _assert_lint_clean(_run(_cfn_lint(), TEMPLATE))


def test_transform_produces_plain_cloudformation(transformed: Path) -> None:
    template: dict[str, Any] = json.loads(transformed.read_text())
    assert "Transform" not in template
    assert "Globals" not in template
    resources = template["Resources"]
    types = [resource["Type"] for resource in resources.values()]
    assert not [t for t in types if t.startswith("AWS::Serverless::")]
    sam_functions = functions()
    events = [e for f in sam_functions.values() for e in (f.get("Events") or {}).values()]
    assert types.count("AWS::Lambda::Function") == len(sam_functions)
    assert types.count("AWS::Events::Rule") == len(events)
    assert types.count("AWS::Lambda::EventInvokeConfig") == len(
        [f for f in sam_functions.values() if "EventInvokeConfig" in f]
    )
    with_dead_letter = 0
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        [target] = resource["Properties"]["Targets"]
        assert "RetryPolicy" in target, logical_id
        if "DeadLetterConfig" not in target:
            continue
        with_dead_letter += 1
        dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        policies = [
            r
            for r in resources.values()
            if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": dlq} in r["Properties"]["Queues"]
        ]
        assert policies, f"{dlq}: EventBridge may not send to the dead-letter queue"
    assert with_dead_letter == len([e for e in events if e["Type"] == "EventBridgeRule"])


def test_each_function_may_be_invoked_only_by_its_own_rules(transformed: Path) -> None:
    resources = json.loads(transformed.read_text())["Resources"]
    rules = {k for k, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    permissions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert len(permissions) == len(rules)
    for permission in permissions:
        properties = permission["Properties"]
        assert properties["Action"] == "lambda:InvokeFunction"
        assert properties["Principal"] == "events.amazonaws.com"
        [rule] = properties["SourceArn"]["Fn::GetAtt"][:1]
        assert rule in rules
        # The permission's rule targets the very function the permission is on.
        [target] = resources[rule]["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [properties["FunctionName"]["Ref"], "Arn"]}


def test_cfn_lint_on_the_transformed_template(transformed: Path) -> None:
    if output := checked_by_make():
        assert "== aws-sam-translator transform" in output
        return
    _assert_lint_clean(_run(_cfn_lint(), transformed))


def test_cfn_lint_catches_a_limit_only_the_transform_shows(tmp_path: Path) -> None:
    """The transformed check is not vacuous: a retry count above EventBridge's maximum
    of 185 passes schema validation of the SAM resource but fails on the rule."""
    text = TEMPLATE.read_text()
    assert text.count("MaximumRetryAttempts: 185") >= 1
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace("MaximumRetryAttempts: 185", "MaximumRetryAttempts: 186", 1))
    result = _run(_translator_python(), ROOT / "scripts" / "sam_transform.py", broken)
    assert result.returncode == 0, _report(result)
    out = tmp_path / "transformed.json"
    out.write_text(result.stdout)
    linted = _run(_cfn_lint(), out)
    assert linted.returncode & CFN_LINT_ERROR, _report(linted)
    assert "186" in linted.stdout, _report(linted)


def test_check_template_script_passes() -> None:
    if output := checked_by_make():
        assert "== checkov" in output
        assert "\ncheck-template: OK\n" in output
        # Then the IAM-definitions check (scripts/check_iam.py), its last line.
        assert output.rstrip().splitlines()[-1].endswith(": OK")
        return
    _sam()  # fails with the way to install it when the SAM CLI is missing
    result = _run("bash", ROOT / "scripts" / "check-template.sh")
    assert result.returncode == 0, _report(result)
    assert "check-template: OK" in result.stdout


def test_the_record_of_make_check_template_covers_what_the_script_checks() -> None:
    """The Makefile hashes the same files this module compares, and every file the
    script reads is among them: a change to any of them makes the record stale."""
    makefile = (ROOT / "Makefile").read_text()
    [line] = [x for x in makefile.splitlines() if x.startswith("TEMPLATE_CHECKED_FILES :=")]
    assert line.split(":=", 1)[1].strip() == CHECKED_FILES_IN_MAKE
    assert "TEMPLATE_CHECKED := .template-check/passed" in makefile
    assert f'echo "{OUTPUT_MARKER.rstrip()}"' in makefile
    script = (ROOT / "scripts" / "check-template.sh").read_text()
    for name in ("template.yaml", "forwarder/template.yaml", "scripts/sam_transform.py"):
        assert name in script, name
    assert "companions/*/template.yaml" in script


def test_a_stale_record_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "passed"
    good = (
        _sha256sum(CHECKED_FILES) + OUTPUT_MARKER + "== sam validate --lint\ncheck-template: OK\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "CHECKED", record)

    record.write_text(good)
    assert checked_by_make().endswith("check-template: OK\n")
    record.write_text(("1" if good[0] == "0" else "0") + good[1:])  # a hash differs
    assert checked_by_make() == ""
    record.write_text(good.replace("check-template: OK", "exit 1"))
    assert checked_by_make() == ""
