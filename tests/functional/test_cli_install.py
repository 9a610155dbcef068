"""`pip install .` gives a `trailguard` command that needs boto3 and nothing else.

The wheel is built offline from a copy of exactly what pyproject.toml packages
(setuptools comes from requirements-dev.txt, so no build isolation and no
network), then installed into a fresh virtualenv that can see boto3's own
dependency closure and nothing more: no aws-lambda-powertools, no moto, no
checkout on sys.path.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"trailguard": ROOT / "layers" / "trailguard", "trailguard_cli": ROOT / "cli"}
NO_AWS = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package, where in SOURCES.items():
        shutil.copytree(
            where / package,
            source / where.relative_to(ROOT) / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    out = tmp_path_factory.mktemp("wheel")
    _pip(
        "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "-w", str(out), str(source)
    )
    [built] = out.glob("trailguard-*.whl")
    return built


def _dist_info(names: list[str], file: str) -> str:
    return next(n for n in names if n.endswith(f".dist-info/{file}"))


def test_wheel_has_the_console_script_and_boto3_as_its_only_dependency(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(_dist_info(names, "entry_points.txt")).decode()
        metadata = archive.read(_dist_info(names, "METADATA")).decode().splitlines()

    assert entry_points.split() == [
        "[console_scripts]",
        "trailguard",
        "=",
        "trailguard_cli.app:main",
    ]
    requires = [line for line in metadata if line.startswith("Requires-Dist:")]
    assert requires == ["Requires-Dist: boto3>=1.35"]


def test_wheel_carries_the_library_and_the_cli_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    top_level = {n.split("/", 1)[0] for n in names if ".dist-info/" not in n}
    assert top_level == {"trailguard", "trailguard_cli"}
    expected = {
        path.relative_to(where).as_posix()
        for package, where in SOURCES.items()
        for path in (where / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected <= names  # a new module or subpackage is packaged without listing it
    assert "trailguard_cli/commands/status.py" in names
    assert not any(n.startswith(("functions/", "drill/", "tests/")) for n in names)


def _boto3_closure() -> Iterator[Path]:
    """The installed top-level modules of boto3 and of everything it requires."""
    seen: set[str] = set()
    todo = ["boto3"]
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
        tops = {
            f.parts[0]
            for f in dist.files or []
            if f.parts[0] != ".." and not f.parts[0].endswith((".dist-info", ".pth"))
        }
        for top in tops:
            yield Path(str(dist.locate_file(top)))
    assert {"boto3", "botocore"} <= seen


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    # boto3 and its dependencies, and only them, through one .pth directory.
    deps = tmp_path_factory.mktemp("boto3-only")
    for module in _boto3_closure():
        (deps / module.name).symlink_to(module)
    [site] = (home / "lib").glob("python3.*/site-packages")
    (site / "boto3-only.pth").write_text(f"{deps}\n")
    return home


def _in(venv: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, env=NO_AWS, timeout=60, check=False, cwd=venv
    )


def test_installed_trailguard_help(venv: Path) -> None:
    result = _in(venv, str(venv / "bin" / "trailguard"), "--help")

    assert result.returncode == 0, result.stderr
    assert "usage: trailguard" in result.stdout
    assert "status" in result.stdout and "reconcile" in result.stdout


def test_installed_trailguard_reaches_aws_with_boto3_alone(venv: Path) -> None:
    result = _in(venv, str(venv / "bin" / "trailguard"), "status", "--table", "baselines")

    assert result.returncode == 2
    assert "NoCredentialsError" in result.stderr
    assert "sign in again" in result.stderr


def test_every_installed_module_imports_without_powertools(venv: Path) -> None:
    script = (
        "import importlib, importlib.util, pkgutil, sys\n"
        "assert importlib.util.find_spec('aws_lambda_powertools') is None\n"
        "assert importlib.util.find_spec('moto') is None\n"
        "import trailguard, trailguard_cli\n"
        "for package in (trailguard, trailguard_cli):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name)\n"
        "print(len([m for m in sys.modules if m.startswith('trailguard')]))\n"
        "print(trailguard.__file__)\n"
        "print(trailguard_cli.__file__)\n"
    )
    result = _in(venv, str(venv / "bin" / "python"), "-c", script)

    assert result.returncode == 0, result.stderr
    imported, *files = result.stdout.split()
    assert int(imported) > 40
    assert all(f.startswith(os.fspath(venv)) for f in files)  # the installed copy, not the checkout
