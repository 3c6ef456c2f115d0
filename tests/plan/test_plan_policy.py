"""Policy loading, the shipped default, and lint findings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from plan_scenarios import BASE_POLICY, customer, frames, invoice, policy, run

from billcx.errors import ConfigError
from billcx.plan import default_policy, default_policy_text, lint_policy, load_policy
from billcx.plan.policy import KIND_STRENGTH, MessageKind, policy_from_mapping
from billcx.schema import MESSAGE_KINDS


def test_default_policy_is_the_shipped_toml_and_lints_clean() -> None:
    text = default_policy_text()
    assert policy_from_mapping(tomllib.loads(text)) == default_policy()
    assert lint_policy(default_policy()) == []


def test_kinds_match_the_contract() -> None:
    import typing

    assert set(typing.get_args(MessageKind)) == set(MESSAGE_KINDS) == set(KIND_STRENGTH)


def test_unknown_key_names_file_path_and_suggests(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[caps]\nmax_mesages = 3\n")
    with pytest.raises(
        ConfigError,
        match=r"p\.toml: unknown setting 'caps\.max_mesages' \(did you mean "
        r"'max_messages'\?\)",
    ):
        load_policy(path)


def test_bad_value_in_a_step_names_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[rules]]\nladder = "a"\n[[ladders.a.steps]]\nname = "x"\nkind = "overdew"\n')
    with pytest.raises(
        ConfigError,
        match=r"'ladders\.a\.steps\[0\]\.kind' must be one of .* found 'overdew' "
        r"\(did you mean 'overdue'\?\)",
    ):
        load_policy(path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[caps\n")
    with pytest.raises(ConfigError, match=r"p\.toml: invalid TOML"):
        load_policy(path)


def _finding_paths(**changes: object) -> dict[str, str]:
    return {f.path: f"{f.severity}: {f.message}" for f in lint_policy(policy(**changes))}


def test_lint_rule_naming_an_unknown_ladder() -> None:
    found = _finding_paths(rules=[{"ladder": "nope"}])
    assert found["rules[0].ladder"] == "error: no ladder named 'nope'; defined: basic"


def test_lint_step_errors() -> None:
    ladders = {
        "basic": {
            "steps": [
                {"name": "a", "kind": "overdue", "offset": 2, "anchor": "previous"},
                {"name": "a", "kind": "overdue", "offset": 5, "channels": []},
                {
                    "name": "fee",
                    "kind": "overdue",
                    "offset": 6,
                    "late_fee": {"percent": 2.0, "fixed": {"USD": 100}},
                },
                {
                    "name": "offer",
                    "kind": "payment_plan_offer",
                    "offset": -3,
                    "offer": {"type": "payment_plan", "instalments": 1},
                },
            ]
        }
    }
    found = _finding_paths(ladders=ladders)
    assert found["ladders.basic.steps[0].anchor"].startswith("error: the first step has no previous step")
    assert found["ladders.basic.steps[1].name"] == "error: step name 'a' is used twice in this ladder"
    assert found["ladders.basic.steps[1].channels"] == "error: needs at least one channel"
    assert found["ladders.basic.steps[2].late_fee"] == "error: set either fixed or percent, not both"
    assert found["ladders.basic.steps[3].offer.instalments"] == "error: must be at least 2, found 1"


def test_lint_settings_errors_and_warnings() -> None:
    found = _finding_paths(
        caps={"max_messages": 0},
        quiet_hours={"default": "night", "presets": {"night": {"start": "22:00", "end": "22:30"}}},
        send={"default_timezone": "Mars/Olympus"},
        min_balance={"XYZ": 5},
        rules=[{"ladder": "basic"}, {"ladder": "basic", "treatments": ["new"]}],
    )
    assert found["caps.max_messages"] == "error: must be at least 1, found 0"
    assert (
        found["quiet_hours.presets.night"] == "error: the window 22:00-22:30 must be at least one hour long"
    )
    assert found["send.default_timezone"] == "error: unknown IANA time zone 'Mars/Olympus'"
    assert found["min_balance.XYZ"] == "error: 'XYZ' is not an ISO 4217 currency code"
    assert found["rules[1]"] == "warning: never used: rules[0] already matches every invoice"


def test_lint_holdout_share_must_be_below_one() -> None:
    found = _finding_paths(
        ladders={"basic": {"holdout_share": 1.0, "steps": BASE_POLICY["ladders"]["basic"]["steps"]}}
    )
    assert found["ladders.basic.holdout_share"] == "error: must be at least 0 and below 1, found 1.0"


def test_plan_refuses_a_policy_with_lint_errors() -> None:
    data = frames([customer("c1")], [invoice("i1", "c1", __import__("datetime").date(2025, 7, 10))])
    with pytest.raises(ConfigError, match=r"policy: rules\[0\]\.ladder: no ladder named 'nope'"):
        run(data, pol=policy(rules=[{"ladder": "nope"}]))
