"""Project configuration: one ``billcx.toml`` gives every stage its defaults.

The file has one table per concern (``[inputs]``, ``[run]``, ``[ingest]``, ``[segment]``,
``[plan]``, ``[render]``); each becomes a frozen dataclass through :func:`billcx.config.from_mapping`,
so unknown keys are errors with a did-you-mean suggestion and values are type-checked.  Paths in
the file are relative to the file's folder.  Command-line flags override what the file says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billcx.config import from_mapping, read_toml, to_mapping
from billcx.errors import ConfigError
from billcx.export import Format
from billcx.ingest import IngestSettings
from billcx.render import RenderSettings
from billcx.segment import SegmentSettings

CONFIG_NAME = "billcx.toml"


@dataclass(frozen=True)
class InputSettings:
    """Where the billing exports are.

    Attributes:
        paths: export files or glob patterns (CSV, Parquet, XLSX), relative to billcx.toml.
        mapping: a mapping TOML that renames columns and sets formats; empty for none.
    """

    paths: tuple[str, ...] = ("exports/*.csv",)
    mapping: str = ""


@dataclass(frozen=True)
class RunSettings:
    """How ``billcx run`` writes its output.

    Attributes:
        out: folder under which each run writes a dated folder ``run-YYYY-MM-DD``.
        as_of: the date the run is as of (YYYY-MM-DD); empty for the latest date in the data.
        formats: extra table formats written next to Parquet (csv, xlsx, jsonl).
        report: write report.html into the run folder.
        chunk_invoices: segment's memory bound: customers are prepared in chunks of about this many
            invoice rows (no figure depends on it; lower it where memory is tight, docs/scale.md).
    """

    out: str = "runs"
    as_of: str = ""
    formats: tuple[str, ...] = ()
    report: bool = True
    chunk_invoices: int = 2_500_000  # billcx.segment.chunks.DEFAULT_CHUNK_INVOICES

    def __post_init__(self) -> None:
        if self.as_of:
            try:
                dt.date.fromisoformat(self.as_of)
            except ValueError:
                raise ValueError(f"as_of must be YYYY-MM-DD or empty, found {self.as_of!r}") from None
        for f in self.formats:
            if f not in {x.value for x in Format} - {"parquet"}:
                raise ValueError(f"formats: unknown format {f!r}; use csv, xlsx or jsonl")
        if self.chunk_invoices < 1:
            raise ValueError("chunk_invoices must be a positive number of invoice rows, "
                             f"found {self.chunk_invoices}")


@dataclass(frozen=True)
class PlanFiles:
    """Plan inputs besides the data.

    Attributes:
        policy: reminder policy TOML (see `billcx policy init`); empty for the built-in default.
        holds: CSV of holds (invoice_id or customer_id, until, reason); empty for none.
        sent: CSV sent log confirmed by the sender (for catch-up); empty for none.
        horizon_days: number of days planned ahead.
        force: plan even when the payments export looks stale.
    """

    policy: str = ""
    holds: str = ""
    sent: str = ""
    horizon_days: int = 30
    force: bool = False

    def __post_init__(self) -> None:
        if self.horizon_days < 1:
            raise ValueError(f"horizon_days must be at least 1, found {self.horizon_days}")


@dataclass(frozen=True)
class TemplateFiles:
    """Message templates.

    Attributes:
        path: a template pack folder (see `billcx templates init`); empty for the built-in pack.
        workers: processes used to render (1 = in process).
    """

    path: str = ""
    workers: int = 1


@dataclass(frozen=True)
class ProjectConfig:
    """Everything ``billcx run`` needs, with paths resolved against ``root``."""

    inputs: InputSettings = InputSettings()
    run: RunSettings = RunSettings()
    ingest: IngestSettings = IngestSettings()
    segment: SegmentSettings = SegmentSettings()
    plan: PlanFiles = PlanFiles()
    render: RenderSettings = RenderSettings()
    templates: TemplateFiles = TemplateFiles()
    root: Path = field(default=Path("."), compare=False)

    def path(self, value: str) -> Path | None:
        """A path from the file, resolved against the file's folder (None when empty)."""
        if not value:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    def input_files(self) -> list[Path]:
        """The export files the globs in ``[inputs] paths`` match, sorted, each once."""
        found: list[Path] = []
        for pattern in self.inputs.paths:
            p = Path(pattern).expanduser()
            base = p if p.is_absolute() else self.root / p
            if any(ch in pattern for ch in "*?["):
                anchor = Path(base.anchor) if base.is_absolute() else Path(".")
                matches = sorted(anchor.glob(str(base.relative_to(anchor))))
                if not matches:
                    raise ConfigError(f"inputs.paths: {pattern!r} matches no file under {self.root}")
                found.extend(m for m in matches if m.is_file())
            else:
                if not base.exists():
                    raise ConfigError(f"inputs.paths: {base} not found")
                found.append(base)
        unique = sorted(dict.fromkeys(found))
        if not unique:
            raise ConfigError("inputs.paths: no export files given")
        return unique


def load_config(path: str | Path | None) -> ProjectConfig:
    """Read ``billcx.toml``; None gives the defaults rooted at the current folder.

    Raises:
        ConfigError: TOML syntax, unknown tables or keys (with a suggestion) or bad values; the
            message names the file and the key path.
    """
    if path is None:
        return ProjectConfig()
    path = Path(path)
    data = read_toml(path)
    try:
        config = from_mapping(ProjectConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", hint=exc.hint) from None
    return dataclasses.replace(config, root=path.resolve().parent)


# --- billcx.toml with every setting and a comment -------------------------------------------------



def _attribute_docs(cls: type) -> dict[str, str]:
    """Attribute descriptions from a dataclass docstring's ``Attributes:`` section."""
    doc = inspect.getdoc(cls) or ""
    out: dict[str, str] = {}
    current: str | None = None
    in_attrs = False
    for line in doc.splitlines():
        if line.strip() == "Attributes:":
            in_attrs = True
            continue
        if not in_attrs:
            continue
        m = re.match(r"^\s{4}(\w+): (.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current and line.startswith("        "):
            out[current] += " " + line.strip()
        elif line.strip() == "":
            continue
        else:
            break
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_value(name)


def _table(obj: Any, name: str, lines: list[str]) -> None:
    docs = _attribute_docs(type(obj))
    summary = (inspect.getdoc(type(obj)) or "").splitlines()[0]
    lines.append(f"[{name}]")
    if summary:
        lines.append(f"# {summary}")
    nested: list[tuple[str, Any]] = []
    for f in dataclasses.fields(obj):
        if not f.init or f.name == "root":
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            nested.append((f.name, value))
            continue
        if value is None:
            if f.name in docs:
                lines.append(f"# {f.name}: {docs[f.name]} (unset by default)")
            continue
        if f.name in docs:
            lines.append(f"# {docs[f.name]}")
        lines.append(f"{_key(f.name)} = {_toml_value(to_mapping(value))}")
    lines.append("")
    for sub_name, sub in nested:
        _table(sub, f"{name}.{sub_name}", lines)


def default_config_text(config: ProjectConfig | None = None) -> str:
    """``billcx.toml`` with every setting at its default (or ``config``'s value) and a comment."""
    config = config or ProjectConfig()
    lines = ["# billcx project configuration. Every setting is shown with its default.",
             "# Paths are relative to this file. Command-line flags override these values.", ""]
    for f in dataclasses.fields(config):
        if f.name == "root":
            continue
        _table(getattr(config, f.name), f.name, lines)
    return "\n".join(lines).rstrip() + "\n"
