"""Documentation that is checked: the CLI reference, help texts, the quick start, CI's command.

Regenerate the CLI reference after changing a command:

    BILLCX_UPDATE_README=1 .venv/bin/pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billcx.cli import app
from billcx.clidoc import commands, markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

runner = CliRunner()


def _between(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name}:start -->") + len(f"<!-- {name}:start -->")
    return start, text.index(f"<!-- {name}:end -->")


def test_readme_cli_reference_matches_the_app() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = _between(text, "cli")
    expected = "\n" + markdown().rstrip("\n") + "\n"
    if os.environ.get("BILLCX_UPDATE_README") == "1" and text[start:end] != expected:
        README.write_text(text[:start] + expected + text[end:], encoding="utf-8")
        text = README.read_text(encoding="utf-8")
        start, end = _between(text, "cli")
    assert text[start:end] == expected, (
        "README CLI reference is out of date; regenerate it with "
        "BILLCX_UPDATE_README=1 .venv/bin/pytest tests/test_docs.py")


ALL_COMMANDS = [name for name, _ in commands()]


def test_every_stage_command_is_registered() -> None:
    for name in ("ingest", "segment", "plan", "render", "run", "init", "report", "evaluate", "backtest",
                 "sample", "preview", "policy init", "policy check", "templates init", "templates lint"):
        assert f"billcx {name}" in ALL_COMMANDS


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_every_command_has_help_text_with_an_example(name: str) -> None:
    args = name.split()[1:]
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    help_text = dict(commands())[name].help or ""  # type: ignore[attr-defined]
    assert len(help_text.split()) >= 8, f"{name}: help text too short"
    assert re.search(r"Example", help_text), f"{name}: help text has no example"
    assert f"billcx {' '.join(args)}" in help_text, f"{name}: the example does not show the command"


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands_ = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert commands_ == ["python3 dev.py demo", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py test" in ci
