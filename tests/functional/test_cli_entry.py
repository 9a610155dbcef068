"""The command line's entry points, `python -m trailguard_cli` and bin/trailguard, as processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# No credentials anywhere, and an endpoint that answers nothing: these runs cannot reach AWS.
ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "TRAILGUARD_PYTHON": sys.executable,
}
COMMANDS = {
    "module": [sys.executable, "-m", "trailguard_cli"],
    "wrapper": [str(ROOT / "bin" / "trailguard")],
}


def _run(how: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(ENV)
    if how == "module":
        env["PYTHONPATH"] = f"{ROOT / 'layers' / 'trailguard'}:{ROOT / 'cli'}"
    return subprocess.run(
        [*COMMANDS[how], *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.mark.parametrize("how", sorted(COMMANDS))
def test_help(how: str) -> None:
    result = _run(how, "--help")

    assert result.returncode == 0, result.stderr
    assert "usage: trailguard" in result.stdout
    assert "reconcile" in result.stdout


@pytest.mark.parametrize("how", sorted(COMMANDS))
def test_no_credentials_is_exit_2_with_a_hint(how: str) -> None:
    result = _run(how, "status", "--table", "baselines")

    assert result.returncode == 2
    assert result.stdout == ""
    assert "NoCredentialsError" in result.stderr
    assert "sign in again" in result.stderr
