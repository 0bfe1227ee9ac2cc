"""Classifier behaviour beyond the data cases: evidence, purity, rules validation, facts as JSON."""

from __future__ import annotations

import ast
import json
import threading
from pathlib import Path

import pytest

import wirewatch.classify as classify_pkg
from wirewatch.classify import RulesError, classify, classify_with, default_rules, load_rules
from wirewatch.models import Classification

PACKAGE_DIR = Path(classify_pkg.__file__).parent
FORBIDDEN = {"boto3", "botocore", "os", "httpx", "requests", "urllib", "socket", "subprocess"}

MINIMAL = """
[settings]
threshold = 2.0
[[rule]]
id = "dprk.name"
topic = "dprk"
weight = 1.0
terms = ["North Korea"]
[[rule]]
id = "missile.word"
topic = "missile"
weight = 2.0
terms = ["missile"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_relevant_decision_carries_evidence_for_each_topic() -> None:
    result = classify("North Korea fires ballistic missile as UN weighs new sanctions on Pyongyang")
    assert set(result.topics) == {"missile", "sanctions"}
    for topic in result.topics:
        assert any(e.topic == topic and e.weight > 0 for e in result.evidence)
    assert any(e.topic == "dprk" for e in result.evidence)


def test_irrelevant_item_keeps_scores_and_evidence_explaining_why() -> None:
    result = classify("Iran test-fires ballistic missile", "Tehran says the missile flew 1,000 km.")
    assert result.topics == () and result.severity == "none"
    assert set(result.scores) == {"missile", "sanctions"}
    assert result.evidence and "no DPRK entity" in result.severity_reason


def test_donetsk_dpr_is_shown_as_rejected_evidence() -> None:
    result = classify("DPR says Korea-made shells hit Donetsk", "Missile strikes reported in Donetsk.")
    assert result.topics == ()
    assert any(e.rule.endswith(":rejected") for e in result.evidence)


def test_facts_and_records_are_json_serialisable() -> None:
    result = classify(
        "UN Security Council adopts resolution 2397 on North Korea",
        "Measures cap oil imports and ban textile and seafood exports.",
    )
    assert result.facts["resolution"] == "2397"
    json.dumps(dict(result.facts))
    assert {"oil cap", "textile ban", "seafood ban"} <= set(result.facts["measures"])


def test_classify_is_pure_and_thread_safe() -> None:
    items = [("North Korea fires ICBM", ""), ("Floods in Pyongyang", ""), ("Iran missile test", "")] * 50
    expected = [classify(t, s) for t, s in items]
    results: list[list[Classification]] = []

    def worker() -> None:
        results.append([classify(t, s) for t, s in items])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == expected for r in results)


def test_rules_are_loaded_once_and_shared() -> None:
    assert default_rules() is default_rules()


def test_classify_with_custom_rules_file(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, MINIMAL))
    assert classify_with(rules, "North Korea missile", "").topics == ("missile",)
    assert classify_with(rules, "Iran missile", "").topics == ()


@pytest.mark.parametrize(
    ("snippet", "named"),
    [
        ('[[rule]]\nid = "bad.regex"\ntopic = "missile"\nweight = 1.0\npatterns = ["(unclosed"]\n', "bad.regex"),
        ('[[rule]]\nid = "bad.topic"\ntopic = "weather"\nweight = 1.0\nterms = ["rain"]\n', "bad.topic"),
        ('[[rule]]\nid = "bad.weight"\ntopic = "missile"\nweight = "heavy"\nterms = ["x"]\n', "bad.weight"),
        ('[[rule]]\nid = "bad.empty"\ntopic = "missile"\nweight = 1.0\n', "bad.empty"),
        ('[[rule]]\nid = "bad.key"\ntopic = "missile"\nweight = 1.0\nterms = ["x"]\nwieght = 2\n', "bad.key"),
        ('[[rule]]\nid = "bad.macro"\ntopic = "missile"\nweight = 1.0\npatterns = ["{nope}"]\n', "bad.macro"),
        ('[[rule]]\nid = "missile.word"\ntopic = "missile"\nweight = 1.0\nterms = ["x"]\n', "missile.word"),
        ('[[rule]]\nid = "bad.lang"\ntopic = "missile"\nweight = 1.0\nterms = ["x"]\nlang = ["fr"]\n', "bad.lang"),
        (
            '[[fact]]\nid = "bad.fact"\ntopic = "missile"\nkey = "count"\ntype = "int"\npatterns = ["\\\\d+"]\n',
            "bad.fact",
        ),
        ('[[severity]]\nid = "bad.sev"\nlevel = "extreme"\ntopic = "missile"\nreason = "x"\n', "bad.sev"),
        (
            '[[severity]]\nid = "bad.ref"\nlevel = "high"\ntopic = "missile"\nreason = "x"\nrules = ["nope"]\n',
            "bad.ref",
        ),
    ],
)
def test_invalid_rule_raises_rules_error_naming_it(tmp_path: Path, snippet: str, named: str) -> None:
    with pytest.raises(RulesError, match=named.replace(".", r"\.")):
        load_rules(_write(tmp_path, MINIMAL + snippet))


def test_invalid_toml_raises_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(_write(tmp_path, "[[rule]\nid = "))


def test_packaged_rules_file_is_valid() -> None:
    rules = load_rules(PACKAGE_DIR / "rules.toml")
    assert {r.topic for r in rules.rules} == {"dprk", "missile", "sanctions"}
    assert any(r.weight < 0 for r in rules.rules)
    assert {s.level for s in rules.severities} == {"urgent", "high"}


def test_classify_package_imports_no_io_or_aws_modules() -> None:
    for path in PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_severity_reason_names_the_missile_only_when_the_text_does() -> None:
    named = classify("North Korea test-fires Hwasong-18 ICBM", "")
    unnamed = classify("North Korea fires ICBM into the sea", "")
    assert named.severity == unnamed.severity == "urgent"
    assert "Hwasong-18" in named.severity_reason
    assert unnamed.severity_reason == "ICBM launch"
