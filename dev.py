#!/usr/bin/env python3
"""Bootstrap and run billcx with nothing installed beyond Python.

    python3 dev.py demo      # create .venv if needed, then run the pipeline on sample_data/
    python3 dev.py test      # create .venv if needed, then run the whole test suite
    python3 dev.py lint      # ruff and mypy (what CI runs after the tests)
    python3 dev.py billcx …  # any billcx command inside the project's environment

The virtual environment is (re)installed when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".billcx-installed"


def ensure_env() -> None:
    """Create .venv and install billcx with its test extras when missing or out of date."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing billcx and its dependencies into .venv", file=sys.stderr)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", f"{ROOT}[test,bench,dev]"], check=True)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_env()
    cmd, rest = argv[0], argv[1:]
    if cmd == "test":
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    if cmd == "demo":
        return subprocess.call([str(PY), "-m", "billcx", "run", "--config", "sample_data/billcx.toml",
                                "--out", "out", *rest], cwd=ROOT)
    if cmd == "lint":
        return (subprocess.call([str(PY), "-m", "ruff", "check", "billcx", "tests", "bench"], cwd=ROOT)
                or subprocess.call([str(PY), "-m", "mypy", "billcx"], cwd=ROOT))
    if cmd == "billcx":
        return subprocess.call([str(PY), "-m", "billcx", *rest])
    print(f"dev.py: unknown command {cmd!r}; use demo, test, lint or billcx", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
