"""The CLI reference in Markdown, generated from the typer app (the README embeds it verbatim).

``python -m billcx.clidoc`` prints it; a test fails when the README's copy is out of date.
"""

from __future__ import annotations

import typer.main

from billcx.cli import app


def _walk(cmd: object, path: list[str]) -> list[tuple[list[str], object]]:
    out: list[tuple[list[str], object]] = []
    subs = getattr(cmd, "commands", None)
    if subs:
        for name in subs:  # registration order = the order `billcx --help` shows
            out.extend(_walk(subs[name], [*path, name]))
    else:
        out.append((path, cmd))
    return out


def commands() -> list[tuple[str, object]]:
    """Every leaf command as (full name, command object)."""
    root = typer.main.get_command(app)
    return [(" ".join(["billcx", *p]), c) for p, c in _walk(root, [])]


def _param_line(param: object) -> str | None:
    opts = list(getattr(param, "opts", []) or []) + list(getattr(param, "secondary_opts", []) or [])
    name = str(getattr(param, "name", ""))
    if name == "help":
        return None
    help_text = " ".join((getattr(param, "help", None) or "").split())
    if type(param).__name__.endswith("Argument"):
        label = f"`{name.upper()}`" + ("…" if getattr(param, "nargs", 1) == -1 else "")
    else:
        label = ", ".join(f"`{o}`" for o in opts)
    default = getattr(param, "default", None)
    extra = ""
    if getattr(param, "required", False):
        extra = " (required)"
    elif default not in (None, False, (), []) and not callable(default):
        extra = f" (default: `{getattr(default, 'value', default)}`)"
    return f"- {label}: {help_text}{extra}"


def markdown() -> str:
    """The whole reference: one section per command with its help text and options."""
    parts: list[str] = []
    for full, cmd in commands():
        parts.append(f"#### `{full}`\n")
        help_text = (getattr(cmd, "help", None) or "").strip()
        parts.append(help_text + "\n")
        lines = [ln for p in getattr(cmd, "params", []) if (ln := _param_line(p))]
        if lines:
            parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
