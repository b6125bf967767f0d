"""The gas and throughput benchmark, by concern: ``ape run bench --network ethereum:local:foundry``.

* :mod:`~ballast.bench.config`: the scenario (assets, prices, targets, the vault spec);
* :mod:`~ballast.bench.floors`: the EIP gas schedule and a floor per operation;
* :mod:`~ballast.bench.trace`: transaction traces by call frame and storage slot;
* :mod:`~ballast.bench.context`, :mod:`~ballast.bench.report`, :mod:`~ballast.bench.breakdowns`:
  the run's shared state, its tables and the breakdowns of a transaction's gas;
* :mod:`~ballast.bench.vaults`: join, deposit, exit and rebalance gas for 2, 4 and 8 assets;
* :mod:`~ballast.bench.lending`: the same with lending off and on, lend, recall, code sizes;
* :mod:`~ballast.bench.throughput`: transactions per second, planner latency, backtester speed;
* :mod:`~ballast.bench.run`: the orchestration, printing the tables and writing ``BENCHMARKS.md``.
"""

from ballast.bench.config import ROOT
from ballast.bench.run import run, run_lending, run_peers
from ballast.bench.throughput import ape_local_tps

__all__ = ["ROOT", "ape_local_tps", "run", "run_lending", "run_peers"]
