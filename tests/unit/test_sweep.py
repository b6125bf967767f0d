"""Sweeps on Dask: the same numbers as one process, progress, and failures retried or reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from distributed import Client, LocalCluster

from ballast.backtest import DAY, GBM, BacktestConfig, Policy, run_backtest
from ballast.sweep import SweepError, run_sweep, sweep_tasks

POLICIES = [
    Policy("calendar 30d", "calendar", interval=30 * DAY),
    Policy("threshold 300bp", "threshold", bands_bps=300, outer_bands_bps=300),
    Policy("edge 200bp gated", "threshold", "edge", bands_bps=200, outer_bands_bps=200, drift_aversion_bps=2_000),
    Policy("hybrid/partial", "hybrid", "partial", interval=7 * DAY, bands_bps=300, outer_bands_bps=900),
    Policy("threshold@7d shrink", "threshold", "shrink", bands_bps=250, outer_bands_bps=250, check_steps=7),
]
SIZES = {"paths": 300, "steps": 60, "seed": 11, "chunk": 128}  # 3 chunks, the last one short


@pytest.fixture(scope="module")
def cluster():
    """Two in-process workers on TCP, as a remote cluster is reached (threads: quick to start)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None) as c:
        yield c


def test_sweep__sync_and_dask__identical_to_run_backtest(cluster):
    """Same seeds, same chunks: the metrics are equal bit for bit, in one process and on the cluster."""
    model, config = GBM(), BacktestConfig()
    reference = run_backtest(model, POLICIES, config, progress=False, **SIZES).metrics
    alone = run_sweep(model, POLICIES, config, **SIZES, scheduler="sync", batch=2, progress=False)
    with Client(cluster) as client:
        distributed = run_sweep(model, POLICIES, config, **SIZES, scheduler=client, batch=2, progress=False)
    assert alone == reference
    assert distributed == reference
    assert [m.policy for m in distributed] == [p.name for p in POLICIES]


def test_sweep__scheduler_address__runs_on_that_cluster(cluster):
    """``--scheduler tcp://...``: the sweep connects to the given scheduler and gets the same numbers."""
    assert cluster.scheduler_address.startswith("tcp://")
    model, config = GBM(), BacktestConfig()
    got = run_sweep(model, POLICIES[:2], config, **SIZES, scheduler=cluster.scheduler_address, progress=False)
    assert got == run_backtest(model, POLICIES[:2], config, progress=False, **SIZES).metrics


def test_sweep_tasks__every_chunk_and_policy__exactly_once():
    tasks = sweep_tasks(POLICIES, paths=300, seed=1, chunk=128, batch=2)
    cells = [(t.chunk, p.name) for t in tasks for p in t.policies]
    assert len(cells) == len(set(cells)) == 3 * len(POLICIES)
    assert sum(t.size for t in tasks if t.first == 0) == 300


@dataclass(frozen=True)
class BrokenModel:
    """GBM whose chunk of ``bad_size`` paths fails: always, or only the first time (``marker`` file)."""

    bad_size: int
    marker: Path | None = None
    base: GBM = GBM()

    @property
    def n_assets(self) -> int:
        return self.base.n_assets

    @property
    def dt_seconds(self) -> float:
        return self.base.dt_seconds

    def generate(self, rng: np.random.Generator, paths: int, steps: int) -> np.ndarray:
        if paths == self.bad_size:
            if self.marker is None:
                raise RuntimeError("node lost its disk")
            if not self.marker.exists():
                self.marker.touch()
                raise RuntimeError("transient failure")
        return self.base.generate(rng, paths, steps)


@pytest.mark.parametrize("scheduler", ["sync", "dask"])
def test_sweep__task_fails_every_time__reported_not_dropped(cluster, scheduler):
    """The last chunk (44 paths) always fails: the sweep raises, naming each failed task and the error."""
    model, config = BrokenModel(bad_size=44), BacktestConfig()
    with Client(cluster) as client:
        where = "sync" if scheduler == "sync" else client
        with pytest.raises(SweepError) as caught:
            run_sweep(model, POLICIES, config, **SIZES, scheduler=where, batch=2, retries=1, progress=False)
    failures = caught.value.failures
    assert len(failures) == 3  # one per batch of policies: (2, 2, 1)
    assert all("chunk 2 (44 paths)" in label and "node lost its disk" in error for label, error in failures)
    assert "3 sweep task(s) failed" in str(caught.value)


@pytest.mark.parametrize("scheduler", ["sync", "dask"])
def test_sweep__task_fails_once__retried_and_identical(cluster, scheduler, tmp_path):
    """A transient failure is retried: the sweep completes with the undisturbed numbers."""
    config = BacktestConfig()
    model = BrokenModel(bad_size=44, marker=tmp_path / "failed-once")
    with Client(cluster) as client:
        where = "sync" if scheduler == "sync" else client
        got = run_sweep(model, POLICIES, config, **SIZES, scheduler=where, batch=len(POLICIES), progress=False)
    assert (tmp_path / "failed-once").exists()  # it did fail
    assert got == run_backtest(GBM(), POLICIES, config, progress=False, **SIZES).metrics


def test_sweep__progress__counts_every_task(capsys):
    run_sweep(GBM(), POLICIES[:2], BacktestConfig(), **SIZES, scheduler="sync", batch=1, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "6/6" in err


def test_sweep__bad_scheduler__refused():
    with pytest.raises(ValueError, match="scheduler"):
        run_sweep(GBM(), POLICIES[:1], BacktestConfig(), **SIZES, scheduler="nowhere", progress=False)


def test_sweep_cli__small_sync_run__prints_the_timing_line(capsys):
    from ballast.sweep import main

    assert (
        main(["--configs", "3", "--paths", "40", "--steps", "20", "--chunk", "20", "--scheduler", "sync", "--quiet"])
        == 0
    )
    out = capsys.readouterr().out
    assert "sweep: 3 policies x 40 paths x 20 steps x 4 assets on sync:" in out and "policy-paths/s" in out


def test_sweep_cli__more_configs_than_the_frontier_space__a_third_gate_widens_it(capsys):
    """1,000 configurations (the issue's sweep) exceed the frontier's 810: the CLI sweeps the same
    grid with a third gate (1,215 distinct policies), and refuses more than that by name."""
    from ballast.frontier import search_space
    from ballast.sweep import SWEEP_GATES, main

    wide = search_space(gates=SWEEP_GATES)
    assert len(wide) == 1_215 and len({p.name for p in wide}) == 1_215
    assert (
        main(
            ["--configs", "1000", "--paths", "4", "--steps", "5", "--chunk", "4", "--batch", "100"]
            + ["--scheduler", "sync", "--quiet"]
        )
        == 0
    )
    assert "1,000 policies" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--configs", "1216", "--scheduler", "sync", "--quiet"])
