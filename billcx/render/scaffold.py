"""``templates init``: copy the default template pack into a folder for editing."""

from __future__ import annotations

import shutil
from pathlib import Path

from billcx.errors import UsageError
from billcx.render.environment import DEFAULT_PACK


def init_templates(folder: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the default template pack (every language, message and layout) into ``folder``.

    Args:
        folder: destination; created when missing.
        force: overwrite the pack's files in a folder that already holds files.

    Returns:
        The files written, sorted.

    Raises:
        UsageError: ``folder`` is a file, or holds files and ``force`` is not set.
    """
    dest = Path(folder)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise UsageError(f"{dest}: folder is not empty", hint="choose an empty folder or pass --force")
    written: list[Path] = []
    for src in sorted(DEFAULT_PACK.rglob("*.j2")):
        target = dest / src.relative_to(DEFAULT_PACK)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        written.append(target)
    return written
