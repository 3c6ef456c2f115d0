"""Measuring one benchmark step as its own process: wall time, CPU time and peak memory.

Each step runs in a fresh child process so that its peak memory is its own (a long-lived process
never gives memory back to the OS, so in-process peaks would pile up step after step).  The child's
resource usage comes from ``os.wait4``; its ``ru_maxrss`` is the peak of the largest single process,
so a sampler also sums the resident memory of the whole process tree every 50 ms, which catches
steps that fan out to worker processes.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_SAMPLE_S = 0.05


@dataclass(frozen=True)
class ProcessCost:
    """What a child process cost.

    Attributes:
        returncode: the child's exit status (negative: killed by that signal).
        wall_s: wall time from start to exit, including interpreter start and imports.
        cpu_s: user + system CPU time of the child and every descendant it waited for.
        peak_rss_mb: the largest resident set of any single process of the step (``ru_maxrss``).
        tree_peak_rss_mb: the largest sampled sum of resident memory over the process tree.
    """

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    tree_peak_rss_mb: float


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                kids.extend(int(k) for k in f.read().split())
    except OSError:
        pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in bytes (0 when it is gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_bytes(p)
        todo.extend(_children(p))
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self.done.wait(_SAMPLE_S)


def run_measured(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
) -> ProcessCost:
    """Run ``argv`` to completion and measure it.

    Args:
        argv: the command.
        cwd: working directory.
        env: environment (default: inherited).
        stdout_path: file to capture stdout into (default: discarded).
        stderr_path: file to capture stderr into (default: discarded).

    Returns:
        The :class:`ProcessCost` of the child (its return code included; never raises for a
        failing child).

    Raises:
        OSError: the command could not be started.
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = _Sampler(proc.pid)
        sampler.start()
        try:
            # wait4 reaps the child and returns its own rusage (not that of our other children).
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            sampler.done.set()
            sampler.join()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()  # type: ignore[union-attr]
    return ProcessCost(
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
        tree_peak_rss_mb=max(sampler.peak / 2**20, usage.ru_maxrss / 1024),
    )
