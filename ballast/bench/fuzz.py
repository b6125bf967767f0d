"""The stateful fuzzer's throughput: the state machine of ``tests/stateful`` run as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from ballast.bench.config import ROOT

STATEFUL_BUDGET = 200.0  # seconds: the state machine (default EVM, revm) is interrupted after this
STATEFUL_PYEVM_BUDGET = 60.0  # seconds: the same machine on titanoboa's py-evm, for reference


STATEFUL = ROOT / "tests" / "stateful" / "test_vault_stateful.py"


def start_stateful(evm: str = "revm") -> subprocess.Popen | None:
    """Start the state machine's CI profile on ``evm`` (``revm`` or ``boa``: titanoboa's py-evm);
    it prints its steps/s."""
    if not STATEFUL.exists():
        return None
    env = {**os.environ, "BALLAST_FUZZ_PROFILE": "ci", "BALLAST_FUZZ_EVM": evm, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(STATEFUL), "--profile", "ci"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.started = time.perf_counter()
    return proc


def finish_stateful(proc: subprocess.Popen | None, budget: float = STATEFUL_BUDGET) -> tuple[float | None, str]:
    """Wait for the state machine until ``budget`` seconds after its start, then interrupt it.

    An interrupted run still prints its summary (steps so far and steps/s), which is reported
    with a note; so is a run that ends on a failing example.
    """
    if proc is None:
        return None, f"skipped: {STATEFUL.relative_to(ROOT)} does not exist"
    note = "CI profile"
    try:
        out, _ = proc.communicate(timeout=max(budget - (time.perf_counter() - proc.started), 1))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        note = f"CI profile interrupted at the {budget:.0f} s budget"
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    # The runner prints a progress line every 50 examples and its summary last: take the last.
    matches = list(re.finditer(r"(\d+) examples, (\d+) steps in ([\d.]+)s = ([\d.]+) steps/s", out))
    match = matches[-1] if matches else None
    if match is None:
        tail = " | ".join(out.strip().splitlines()[-2:])[-200:]
        return None, f"{note}: no summary (exit {proc.returncode}): {tail}"
    examples, steps, seconds, rate = match.groups()
    note = f"{note}: {examples} examples, {int(steps):,} steps in {float(seconds):.0f} s"
    if proc.returncode not in (0, None) and "interrupted" not in note:
        note += f"; exit {proc.returncode} (a failing example: see make test)"
    return float(rate), note
