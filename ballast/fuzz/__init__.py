"""The vault's stateful fuzzer: a hypothesis state machine over the contracts on revm.

* ``revm_env.py``: a titanoboa-shaped environment over ``pyrevm`` (deploy, call, ``prank``,
  ``anchor``, ``time_travel``, revert reasons, logs);
* ``stack.py``: deploys a vault with mock tokens and feeds on real Uniswap V2 pairs and V3
  pools (the npm packages' bytecode) behind the vault's adapters, and reads it back as the
  planner's ``VaultState`` and ``Market``;
* ``machine.py``: the state machine (rules, the model that predicts every rebalance, the
  invariants of TECH_SPEC.md) and its hypothesis profiles;
* ``python -m ballast.fuzz``: runs it from the command line (``__main__.py``).

``tests/stateful/`` registers the profiles and runs the machine under pytest; the bench asks
:func:`measure_steps_per_second`. Importing this package imports neither boa nor revm.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The speed line of ``machine.Stats.summary``.
_SUMMARY = re.compile(r"(\d+) examples, (\d+) steps in ([\d.]+)s = ([\d.]+) steps/s")
# How long compiling the contracts may take before the budget starts (titanoboa caches on disk).
_COMPILE_ALLOWANCE = 300.0


def measure_steps_per_second(budget_seconds: float, evm: str = "revm") -> tuple[float | None, str]:
    """Run the state machine's CI profile on ``evm`` (``revm``, or ``boa``: titanoboa's py-evm)
    for at most ``budget_seconds`` of fuzzing and return (steps per second, a note).

    It runs in a subprocess (``python -m ballast.fuzz --budget ...``): the EVM backend is fixed
    when the stack is first imported, and the fuzzer's chain state is process-wide. The rate is
    steps over fuzzing time, compiling excluded. The note says how many examples and steps ran,
    for how long, whether the budget cut the profile short, whether an example failed, and the
    load average when it ended (the rate is per process: other work on the machine lowers it).
    ``(None, note)`` when no speed line was printed (the note then carries the output's tail).
    """
    if evm not in ("revm", "boa"):
        raise ValueError(f"evm must be 'revm' or 'boa', not {evm!r}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BALLAST_FUZZ_VAULT", None)
    env.pop("BALLAST_FUZZ_SLEEVE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    cmd = [sys.executable, "-m", "ballast.fuzz", "--profile", "ci", "--evm", evm, "--budget", str(budget_seconds)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=budget_seconds + _COMPILE_ALLOWANCE)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    matches = list(_SUMMARY.finditer(out))
    if not matches:
        tail = " | ".join(out.strip().splitlines()[-2:])[-200:]
        return None, f"no speed line after {time.perf_counter() - started:.0f} s (exit {proc.returncode}): {tail}"
    examples, steps, seconds, rate = matches[-1].groups()
    note = f"CI profile on {evm}: {examples} examples, {int(steps):,} steps in {float(seconds):.0f} s"
    if "interrupted" in out:
        note += f" (stopped at the {budget_seconds:g} s budget)"
    if proc.returncode not in (0, None):
        note += f"; exit {proc.returncode} (a failing example: run pytest tests/stateful)"
    load = re.findall(r"load average ([\d.]+) on (\d+) cores", out)
    if load:
        note += f"; load average {load[-1][0]} on {load[-1][1]} cores"
    return float(rate), note


__all__ = ["measure_steps_per_second"]
