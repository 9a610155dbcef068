"""Fixtures for the static checks of template.yaml.

The template is read once (drill.template caches it) with CloudFormation's
short-form tags turned into their long form (`!Ref X` -> {"Ref": "X"}), so the
tests see what CloudFormation sees. Tests must not mutate what they get: the
loader's cache is shared.
"""

from __future__ import annotations

from typing import Any

import pytest

from drill.template import load_template


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])
