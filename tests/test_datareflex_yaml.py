"""Configuration read through one helper: pydantic models from YAML, errors naming file and line."""

import pydantic
import pytest

import datareflex
from datareflex import ConfigError, PolicyError, load_yaml_model

ORDERS_POLICY = """\
# the orders policy
rules:
  - name: broken rows
    when: {kind: contract_violation}
    then: quarantin
default: hold
"""


class Source(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    landing: str
    keys: list[str] = []


class Settings(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    datasets: dict[str, Source]
    interval_seconds: int = pydantic.Field(30, ge=1)


def test_a_wrong_action_names_file_line_key_and_the_valid_values() -> None:
    with pytest.raises(PolicyError) as caught:
        datareflex.Policy.from_yaml(ORDERS_POLICY, "orders_policy.yaml")
    valid = [a.value for a in datareflex.ActionKind]
    assert (
        str(caught.value)
        == f"orders_policy.yaml, line 5: rules.0.then must be one of {valid}, got 'quarantin'"
    )
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "datasets:\n  orders:\n    landing: in/\n    kyes: [id]\n",
            "line 4: datasets.orders.kyes is not a valid key; valid keys: ['keys', 'landing']",
        ),
        ("datasets:\n  orders:\n    keys: [id]\n", "line 2: datasets.orders.landing is required"),
        (
            "datasets:\n  orders: {landing: in/}\ninterval_seconds: 0\n",
            "line 3: interval_seconds must be greater than or equal to 1, got 0",
        ),
        (
            "datasets:\n  orders: {landing: in/, keys: [id, [x]]}\n",
            "line 2: datasets.orders.keys.1 must be a valid string, got ['x']",
        ),
        ("datasets: [orders]\n", "line 1: datasets must be a mapping, got ['orders']"),
        (
            "datasets:\n  orders: {landing: in/\n",
            "line 3: not valid YAML: expected ',' or '}', but got '<stream end>'",
        ),
        (
            "datasets: !!python/object/apply:os.system [echo hi]\n",
            "line 1: not valid YAML: the tag !!python/object/apply:os.system is not allowed",
        ),
        ("", "suite.yaml: the file is empty"),
        (
            "datasets:\n  orders:\n    landing: in/\n    landing: out/\n",
            "line 4: datasets.orders.landing is given twice",
        ),
    ],
)
def test_any_model_reads_from_yaml_with_lines(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml_model(Settings, text, "suite.yaml")
    assert str(caught.value).startswith(
        message if message.startswith("suite.yaml") else f"suite.yaml, {message}"
    )


def test_a_good_file_gives_the_model() -> None:
    settings = load_yaml_model(Settings, "datasets:\n  orders: {landing: in/, keys: [id]}\n", "suite.yaml")
    assert settings == Settings(datasets={"orders": Source(landing="in/", keys=["id"])})


def test_the_policy_json_schema_describes_every_key() -> None:
    schema = datareflex.Policy.json_schema()
    defs = schema["$defs"]
    assert set(defs) >= {"PolicyRule", "When", "Guardrails", "ActionKind"}
    assert set(defs["When"]["properties"]) == {
        "kind",
        "column",
        "rule",
        "severity",
        "scope",
        "min_magnitude",
        "max_magnitude",
    }
    assert "with" in defs["PolicyRule"]["properties"] and defs["PolicyRule"]["additionalProperties"] is False
    for model in ("PolicyRule", "When", "Guardrails"):
        assert all(p.get("description") for p in defs[model]["properties"].values()), model
    assert all(p.get("description") for p in schema["properties"].values())


def test_when_takes_a_name_or_a_list_and_matches_scope() -> None:
    policy = datareflex.Policy.from_yaml(
        "rules:\n"
        "  - {when: {kind: contract_violation, scope: batch}, then: alert}\n"
        "  - {when: {kind: [contract_violation, drift], column: 7}, then: quarantine}\n"
    )
    when = policy.rules[1].when
    assert when.kind == (datareflex.SignalKind.CONTRACT_VIOLATION, datareflex.SignalKind.DRIFT)
    assert when.column == ("7",)
    burst = datareflex.Signal(datareflex.SignalKind.CONTRACT_VIOLATION, "7", "null_fraction")
    broken = datareflex.Signal(datareflex.SignalKind.CONTRACT_VIOLATION, "7", "maximum")
    assert [rule.then.value for rule, _ in policy.plan([burst, broken]).steps] == ["quarantine", "alert"]
    assert policy.rules[0].matches(burst) and not policy.rules[0].matches(broken)
