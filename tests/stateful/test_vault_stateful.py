"""The vault's state machine (``ballast/fuzz/machine.py``) under pytest: its hypothesis profiles
registered, the profile of ``BALLAST_FUZZ_PROFILE`` (``ci`` by default) run, and its speed and
rebalance outcomes printed at the end of the module. See README.md beside this file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script (how ``ballast/bench.py`` measured steps/s before it could call
    # ``ballast.fuzz.measure_steps_per_second``): the same as ``python -m ballast.fuzz [args]``,
    # with this checkout's ``ballast`` first on the path.
    _root = str(Path(__file__).resolve().parents[2])
    _env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root, os.environ.get("PYTHONPATH")]))}
    os.chdir(_root)
    os.execve(sys.executable, [sys.executable, "-m", "ballast.fuzz", *sys.argv[1:]], _env)

import pytest
from hypothesis import settings

from ballast.fuzz import machine

machine.register_profiles()


@pytest.fixture(scope="module", autouse=True)
def _speed_report(request):
    """Print the machine's report (steps/s first) once the module has run, past pytest's capture."""
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{machine.report() if machine.STATS.steps else machine.STATS.summary()}")


def test_vault_stateful():
    """The state machine, then: every revert reason of ``Vault.rebalance`` (and of the checks it
    calls) was produced at least once, so that no check of a rebalance goes untested. While one
    is missing after the profile's run, ``machine.top_up`` fuzzes on (seeded, at most 160
    examples more)."""
    profile = settings.get_profile(machine.PROFILE)
    machine.run(profile)
    machine.top_up(profile)
    machine.assert_every_rebalance_reason_reached()
