#!/usr/bin/env python3
"""Transform template.yaml with aws-sam-translator into plain CloudFormation JSON.

cfn-lint 1.x validates SAM resources against SAM schemas without running the
transform, and `sam validate --lint` does the same, so limits that only show on
the generated resources (AWS::Events::Rule targets, AWS::Lambda::EventInvokeConfig,
the rules' dead-letter queues and their policies) are checked only on this
output (docs/testing-offline.md).

Run it with a Python that has aws-sam-translator (the SAM CLI venv has it):

    .sam-venv/bin/python scripts/sam_transform.py template.yaml > transformed.json

No AWS credentials or network: local CodeUri/ContentUri paths are replaced by
placeholder S3 locations (as `sam validate` does) and no managed policy is
looked up (every function of trailguard has an explicit role).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_BUCKET = "trailguard-placeholder-artifacts"
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "trailguard",
    "AWS::StackId": (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/trailguard/"
        "00000000-0000-0000-0000-000000000000"
    ),
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}
_ARTIFACT_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class NoManagedPolicies:
    """Managed policy loader that knows no policies: a name-based lookup fails loudly."""

    def load(self) -> dict[str, str]:
        return {}


def _placeholder_artifacts(template: dict[str, Any]) -> None:
    for logical_id, resource in template.get("Resources", {}).items():
        prop = _ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        if prop is None:
            continue
        properties = resource.setdefault("Properties", {})
        if isinstance(properties.get(prop), str) and not properties[prop].startswith("s3://"):
            properties[prop] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"


def transform_template(path: Path) -> dict[str, Any]:
    # The translator resolves the partition from the region, never from a real account.
    os.environ.setdefault("AWS_DEFAULT_REGION", PSEUDO_PARAMETERS["AWS::Region"])
    # Imported here, after the region is set, and only where the translator is installed.
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(path.read_text())
    _placeholder_artifacts(template)
    parameters = dict(PSEUDO_PARAMETERS)
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            parameters[name] = spec["Default"]
    return dict(transform(template, parameters, NoManagedPolicies()))


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path("template.yaml")
    try:
        result = transform_template(path)
    except Exception as exc:  # the translator's own errors carry the resource and reason
        print(f"SAM transform failed: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
