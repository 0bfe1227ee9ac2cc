"""template.yaml expanded offline with aws-sam-translator, and the IAM actions each function is granted."""

from __future__ import annotations

import functools
import os
from typing import Any

from tests.support.paths import REPO

SENDER = "alerts@wirewatch.example.com"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; offline, its bundled map is enough."""

    def load(self) -> dict[str, str]:
        return {}


@functools.cache
def sam_template() -> dict[str, Any]:
    """template.yaml as written (CodeUri etc. still local paths)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse((REPO / "template.yaml").read_text("utf-8"))  # type: ignore[no-any-return]


@functools.cache
def expanded_template() -> dict[str, Any]:
    """The CloudFormation SAM would deploy (local code paths replaced by S3 placeholders, as sam validate does)."""
    import copy

    from samtranslator.translator.transform import transform

    template = copy.deepcopy(sam_template())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://bucket/{props[key].strip('/')}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, {"SenderAddress": SENDER}, _NoManagedPolicies())  # type: ignore[no-any-return]


def function_code_dirs() -> dict[str, str]:
    """Logical id → functions/<dir> of every function in the template."""
    return {
        name: resource["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        for name, resource in sam_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def granted_actions(function: str) -> set[str]:
    """IAM actions a function's role allows through its own inline and customer-managed policies.

    The AWS-managed policies SAM attaches for event sources (SQS polling, stream reading, logs,
    X-Ray) are left out: they are not ours to keep minimal.
    """
    resources = expanded_template()["Resources"]
    role = resources[f"{function}Role"]["Properties"]
    # SAM's own destination policies let Lambda deliver failed events; the code never calls them.
    documents = [
        p["PolicyDocument"]
        for p in role.get("Policies", [])
        if "OnFailure" not in p["PolicyName"] and not p["PolicyName"].endswith("SQSPolicy")
    ]
    for arn in role.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            documents.append(resources[arn["Ref"]]["Properties"]["PolicyDocument"])
    actions: set[str] = set()
    for document in documents:
        for statement in document["Statement"]:
            granted = statement["Action"]
            actions.update([granted] if isinstance(granted, str) else granted)
    return actions
