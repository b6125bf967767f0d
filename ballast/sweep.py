"""Parameter sweeps of the backtester on Dask's distributed scheduler.

A sweep runs many policies over the same price paths (:func:`ballast.backtest.run_backtest`'s
common random numbers), cut into tasks of one chunk of paths x one batch of policies. Each task
regenerates its chunk's prices from the chunk's own seed (``SeedSequence(seed).spawn()[i]``, as
``run_backtest`` does), simulates its policies and returns their per-path statistics; the client
joins the chunks in order and summarises. So a sweep gives exactly (bit for bit) the metrics of
``run_backtest`` with the same ``seed`` and ``chunk``, wherever its tasks ran.

Where the tasks run (``scheduler``):

* ``"local"`` (default): a :class:`distributed.LocalCluster` on this machine, one single-threaded
  worker process per core (at most ``workers``);
* ``"tcp://host:8786"``: the scheduler of an existing cluster (``dask scheduler`` and
  ``dask worker tcp://host:8786`` on each machine, each with this package installed at the same
  version);
* ``"sync"``: no Dask at all, every task in this process (the single-process reference);
* a :class:`distributed.Client` already connected.

A task that raises is retried ``retries`` times; one that still fails is reported (its chunk, its
policies and the error) in a :class:`SweepError` once every other task has finished, never
silently dropped.

``python -m ballast.sweep --help``: a sweep of the frontier's search space, timed (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ballast.backtest import (
    BacktestConfig,
    FloatArray,
    Metrics,
    Policy,
    PriceModel,
    ideal_values,
    path_stats,
    simulate,
    summarise,
)

__all__ = ["SweepError", "SweepTask", "run_sweep", "sweep_tasks"]

#: Policies per task: large enough that the chunk's prices are generated once for many runs.
DEFAULT_BATCH = 25


class SweepError(RuntimeError):
    """Tasks of a sweep failed after their retries.

    Attributes:
        failures: ``(task label, error)`` of each failed task.
    """

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        lines = "\n".join(f"  {label}: {error}" for label, error in failures)
        super().__init__(f"{len(failures)} sweep task(s) failed after their retries:\n{lines}")


@dataclass(frozen=True)
class SweepTask:
    """One unit of work: one chunk of paths, one batch of policies.

    Attributes:
        chunk: Index of the chunk of paths.
        size: Paths in the chunk.
        seed: The chunk's own seed (a child of the sweep's ``SeedSequence``).
        first: Index of the batch's first policy in the sweep.
        policies: The batch.
    """

    chunk: int
    size: int
    seed: np.random.SeedSequence
    first: int
    policies: tuple[Policy, ...]

    @property
    def label(self) -> str:
        """Names the task in progress and error reports."""
        last = self.first + len(self.policies) - 1
        return f"chunk {self.chunk} ({self.size} paths), policies {self.first}-{last} ({self.policies[0].name}, ...)"


def sweep_tasks(
    policies: Sequence[Policy], paths: int, seed: int, chunk: int, batch: int = DEFAULT_BATCH
) -> list[SweepTask]:
    """Cuts a sweep into tasks, batch-major (every chunk of batch 0 first), so batches finish in order."""
    if paths <= 0 or chunk <= 0 or batch <= 0:
        raise ValueError("paths, chunk and batch must be positive")
    sizes = [min(chunk, paths - start) for start in range(0, paths, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    return [
        SweepTask(index, size, child, first, tuple(policies[first : first + batch]))
        for first in range(0, len(policies), batch)
        for index, (size, child) in enumerate(zip(sizes, seeds, strict=True))
    ]


def run_task(task: SweepTask, model: PriceModel, config: BacktestConfig, steps: int) -> list[dict[str, FloatArray]]:
    """Simulates one task: its chunk's prices, then each of its policies; per-path statistics."""
    dt = float(model.dt_seconds)
    prices = model.generate(np.random.default_rng(task.seed), task.size, steps)
    ideal = ideal_values(prices, config)
    return [path_stats(simulate(policy, prices, config, dt), ideal, config, dt) for policy in task.policies]


def run_sweep(
    model: PriceModel,
    policies: Sequence[Policy],
    config: BacktestConfig,
    paths: int = 2_000,
    steps: int = 365,
    seed: int = 0,
    chunk: int = 5_000,
    *,
    scheduler: object = "local",
    batch: int = DEFAULT_BATCH,
    retries: int = 2,
    workers: int | None = None,
    progress: bool = True,
) -> list[Metrics]:
    """Runs every policy over the same paths, as tasks on a Dask scheduler; metrics in input order.

    Args:
        model: Price model (must pickle: the built-in ones do).
        policies: Policies to compare; names must be unique.
        config: Portfolio and cost settings.
        paths: Number of paths.
        steps: Steps per path.
        seed: Random seed (same meaning as :func:`ballast.backtest.run_backtest`'s).
        chunk: Paths per task (bounds each worker's memory).
        scheduler: ``"local"``, ``"sync"``, a scheduler address or a connected Client.
        batch: Policies per task.
        retries: Extra attempts of a failing task before it is reported.
        workers: Worker processes of the local cluster (default: the machine's cores).
        progress: Show a progress bar of finished tasks (on stderr).

    Raises:
        SweepError: listing every task that still failed after ``retries`` retries.
    """
    if steps <= 0 or retries < 0:
        raise ValueError("steps must be positive and retries >= 0")
    if model.n_assets != len(config.weights_bps):
        raise ValueError(f"the model has {model.n_assets} assets but {len(config.weights_bps)} target weights")
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError("policy names must be unique")
    tasks = sweep_tasks(policies, paths, seed, chunk, batch)
    chunks = len({t.chunk for t in tasks})
    collected: dict[int, dict[int, list[dict[str, FloatArray]]]] = {}  # batch first -> chunk -> stats
    metrics: dict[int, Metrics] = {}
    failures: list[tuple[str, str]] = []

    def finished(task: SweepTask, stats: list[dict[str, FloatArray]]) -> None:
        by_chunk = collected.setdefault(task.first, {})
        by_chunk[task.chunk] = stats
        if len(by_chunk) == chunks:  # the batch is complete: summarise it and free its arrays
            del collected[task.first]
            for offset, policy in enumerate(task.policies):
                parts = [by_chunk[c][offset] for c in range(chunks)]
                joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
                metrics[task.first + offset] = summarise(policy.name, joined)

    bar = tqdm(total=len(tasks), desc="sweep", unit="task", disable=not progress, mininterval=2.0)
    with bar:
        if scheduler == "sync":
            for task in tasks:
                for attempt in range(retries + 1):
                    try:
                        stats = run_task(task, model, config, steps)
                    except Exception as exc:  # noqa: BLE001 - reported below, never dropped
                        if attempt == retries:
                            failures.append((task.label, f"{type(exc).__name__}: {exc}"))
                        continue
                    finished(task, stats)
                    break
                bar.update()
        else:
            _run_distributed(tasks, model, config, steps, scheduler, retries, workers, finished, failures, bar)
    if failures:
        raise SweepError(failures)
    return [metrics[i] for i in range(len(policies))]


def _run_distributed(tasks, model, config, steps, scheduler, retries, workers, finished, failures, bar) -> None:
    """Submits the tasks to a Dask scheduler and folds in each result as it arrives."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if isinstance(scheduler, Client):
        client, own = scheduler, False
    elif scheduler == "local":
        n = workers or max(1, min(len(os.sched_getaffinity(0)), len(tasks)))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client, own = Client(cluster), True
    elif isinstance(scheduler, str) and "://" in scheduler:
        client, own = Client(scheduler), True
    else:
        raise ValueError(
            f"scheduler must be 'local', 'sync', an address like tcp://host:8786 or a Client, not {scheduler!r}"
        )
    try:
        # The model and config travel once, not with every task.
        model_f, config_f = client.scatter([model, config], broadcast=True)
        futures = {
            client.submit(run_task, task, model_f, config_f, steps, retries=retries, pure=False): task for task in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            if future.status == "error":
                exc = future.exception()
                failures.append((task.label, f"{type(exc).__name__}: {exc}"))
            else:
                finished(task, future.result())
            future.release()
            bar.update()
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------ CLI


#: The benefit-versus-cost gates of a sweep larger than the frontier's space (810 policies).
SWEEP_GATES: tuple[float | None, ...] = (None, 2_000.0, 5_000.0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ballast.sweep``: times a sweep of the frontier's search space; prints the best rows."""
    from ballast.backtest import GBM, format_table
    from ballast.frontier import search_space

    parser = argparse.ArgumentParser(
        prog="python -m ballast.sweep",
        description="Time a sweep of rebalancing policies (the frontier's search space) on Dask.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--configs", type=int, default=810, help="policies, spread evenly over the search space")
    parser.add_argument("--paths", type=int, default=10_000, help="price paths")
    parser.add_argument("--steps", type=int, default=365, help="daily steps per path")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--chunk", type=int, default=2_500, help="paths per task")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="policies per task")
    parser.add_argument("--scheduler", default="local", help="local, sync, or a scheduler address tcp://host:port")
    parser.add_argument("--workers", type=int, help="local cluster worker processes (default: cores)")
    parser.add_argument("--retries", type=int, default=2, help="retries of a failing task")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    space = search_space()
    if args.configs > len(space):  # a larger sweep: the same grid with a third, stricter gate
        space = search_space(gates=(*SWEEP_GATES,))
    if not 0 < args.configs <= len(space):
        parser.error(f"--configs must be in [1, {len(space)}]")
    policies = [space[i * len(space) // args.configs] for i in range(args.configs)]
    start = time.perf_counter()
    metrics = run_sweep(
        GBM(),
        policies,
        BacktestConfig(),
        args.paths,
        args.steps,
        args.seed,
        args.chunk,
        scheduler=args.scheduler,
        batch=args.batch,
        retries=args.retries,
        workers=args.workers,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    runs = args.configs * args.paths
    print(
        f"sweep: {args.configs:,} policies x {args.paths:,} paths x {args.steps} steps x 4 assets "
        f"on {args.scheduler}: {seconds:,.1f} s wall, {runs / seconds:,.0f} policy-paths/s"
    )
    print(format_table(sorted(metrics, key=lambda m: m.cost)[:5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
