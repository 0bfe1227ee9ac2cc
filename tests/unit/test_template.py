"""template.yaml expanded offline by aws-sam-translator: handlers, schedules, failure destinations, least privilege."""

from __future__ import annotations

import pytest

from tests.support.aws import load_handler
from tests.support.template import expanded_template, function_code_dirs, granted_actions, sam_template
from wirewatch.adapters.aws.dynamodb.schema import TABLE_DEFINITION


@pytest.mark.parametrize("function", sorted(function_code_dirs()))
def test_every_handler_in_the_template_imports_and_is_callable(function: str) -> None:
    properties = sam_template()["Resources"][function]["Properties"]
    module_name, _, attribute = properties["Handler"].partition(".")
    assert module_name == "app"
    assert callable(getattr(load_handler(function_code_dirs()[function]), attribute))


def test_schedules_have_no_fixed_name_and_retry_into_a_dead_letter_queue() -> None:
    schedules = [r for r in expanded_template()["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 2
    for schedule in schedules:
        assert "Name" not in schedule["Properties"]
        target = schedule["Properties"]["Target"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1 and "Arn" in target["DeadLetterConfig"]


def test_every_asynchronously_invoked_function_has_a_failure_destination() -> None:
    resources = expanded_template()["Resources"]
    invoke_configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    scheduled = {
        r["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::Scheduler::Schedule"
    }
    for function in scheduled | {"PollFunction"}:
        assert "OnFailure" in invoke_configs[function]["DestinationConfig"], function
    streams = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping" and "StreamingPosition" not in r
    ]
    stream = next(
        p for p in streams if "DynamoDB" in str(p["EventSourceArn"]) or "StreamArn" in str(p["EventSourceArn"])
    )
    assert stream["DestinationConfig"]["OnFailure"]["Destination"]
    assert stream["BisectBatchOnFunctionError"] and stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_no_policy_grants_wildcard_actions_or_ses_crud() -> None:
    for function in function_code_dirs():
        actions = granted_actions(function)
        assert not [a for a in actions if "*" in a], function
        assert not {a for a in actions if a.startswith("ses:")} - {"ses:SendEmail", "ses:GetAccount"}, function
    text = str(sam_template())
    assert "SESCrudPolicy" not in text


def test_table_in_the_template_matches_the_local_schema() -> None:
    table = sam_template()["Resources"]["Table"]
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    assert props["SSESpecification"]["SSEEnabled"] and props["TimeToLiveSpecification"]["Enabled"]
    assert props["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert props["AttributeDefinitions"] == TABLE_DEFINITION["AttributeDefinitions"]
    assert [(g["IndexName"], g["KeySchema"], g["Projection"]) for g in props["GlobalSecondaryIndexes"]] == [
        (g["IndexName"], g["KeySchema"], g["Projection"]) for g in TABLE_DEFINITION["GlobalSecondaryIndexes"]
    ]


def test_the_layer_is_built_by_sam_for_arm64() -> None:
    layer = sam_template()["Resources"]["WirewatchLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}
    assert sam_template()["Globals"]["Function"]["Architectures"] == ["arm64"]
