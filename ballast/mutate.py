"""Mutation testing of the vault: does the test suite notice a single deliberate bug?

An explicit list of single-change mutants of ``contracts/Vault.vy``, of the ``Rules`` contract
it staticcalls (``contracts/Rules.vy``: ``settle``'s turnover cap) and of their modules
(``contracts/modules/rules.vy``: drift rules, join/exit/deposit rounding; ``pricing.vy``) (no
regex rules: those give mostly equivalent mutants). Each mutant names the file, the exact
original snippet (which must occur exactly once, so the list breaks loudly when the source
changes), its replacement, and the test files that cover the mutated code.

For each mutant the project is copied into a temporary folder (sources, contracts, tests,
the ``ballast`` package, ``ape-config.yaml``...; ``node_modules`` symlinked, ``.build``
left out so that ape recompiles the mutant; the interpreter of ``.venv`` is reused), the
change is applied, the copy is checked to compile (the vault, and the mutated contract if
another), and the suites run one after the other, each with ``-x``:

* ``stateful``: the state machine's CI profile (``tests/stateful/test_vault_stateful.py``)
  and the deterministic regressions, on titanoboa + revm. Hypothesis' shrink phase is
  switched off (``-p ballast.mutate``, see ``pytest_collection_modifyitems``): the
  examples explored are the CI profile's, a failure is reported as found;
* ``ape``: the unit and adversarial test files relevant to the mutated function, in one
  ``ape test`` process (one compilation).

A mutant is killed when a suite fails. The unmutated copy must pass every suite first (the
baseline row), else the run aborts. Results: a table on stdout and a markdown file
(``--out``, default ``MUTATION.md``).

    python -m ballast.mutate --list
    python -m ballast.mutate --only cooldown_removed --only drift_grew_removed
    python -m ballast.mutate --suite full --out MUTATION.md
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAULT = "contracts/Vault.vy"
PRICING = "contracts/modules/pricing.vy"
# The shared stateless contract the vault staticcalls (`settle`, `due`, `observe`, validation).
RULES_CONTRACT = "contracts/Rules.vy"
# The pure functions both use (drift rules, weights, join/exit/deposit amounts).
RULES_MODULE = "contracts/modules/rules.vy"

# Not copied into a mutant's folder (node_modules is symlinked instead).
SKIP = {".git", ".venv", ".build", "node_modules", ".hypothesis", ".pytest_cache", ".cache", "out", "__pycache__"}

# --------------------------------------------------------------------------- test files

REBALANCE_REVERTS = "tests/unit/test_rebalance_reverts.py"
REBALANCE = "tests/unit/test_rebalance.py"
KEEPER_MALICE = "tests/adversarial/test_keeper_malice.py"
SANDWICH = "tests/adversarial/test_sandwich.py"
ORACLE = "tests/adversarial/test_oracle.py"
FRONTRUN = "tests/adversarial/test_frontrun.py"
JOIN_DEPOSIT_EXIT = "tests/unit/test_join_deposit_exit.py"
ROUNDING = "tests/adversarial/test_rounding.py"
REENTRANCY = "tests/adversarial/test_reentrancy.py"
PRICING_TESTS = "tests/unit/test_pricing.py"
VOL_HAIRCUT = "tests/unit/test_vol_haircut.py"
HOSTILE = "tests/adversarial/test_hostile_venues.py"

REB = (REBALANCE_REVERTS, REBALANCE, KEEPER_MALICE)
ENTRY = (JOIN_DEPOSIT_EXIT, ROUNDING)

STATEFUL_FAST = ("tests/stateful/test_vault_stateful.py", "tests/stateful/test_regressions.py")
STATEFUL_FULL = ("tests/stateful",)
APE_FULL = ("tests/unit", "tests/adversarial")


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]  # ape test files (unit, adversarial) covering the mutated code
    what: str  # one line, for the table
    stateful: bool = True  # run the stateful CI profile too

    def apply(self, root: Path) -> None:
        path = root / self.file
        text = path.read_text()
        count = text.count(self.original)
        if count != 1:
            raise SystemExit(f"mutant {self.name}: its original snippet occurs {count} times in {self.file}, not once")
        path.write_text(text.replace(self.original, self.replacement))


def _removed(name: str, line: str, tests: tuple[str, ...], what: str, file: str = VAULT) -> Mutant:
    """The statement ``line`` (a whole line, with its indentation) replaced by ``pass``."""
    indent = line[: len(line) - len(line.lstrip())]
    return Mutant(name, file, line + "\n", indent + "pass\n", tests, what)


def _flip(name: str, call: str, tests: tuple[str, ...], what: str, file: str = VAULT) -> Mutant:
    """The last boolean argument (the rounding direction) of ``call`` flipped."""
    if call.endswith("True)"):
        flipped = call[: -len("True)")] + "False)"
    elif call.endswith("False)"):
        flipped = call[: -len("False)")] + "True)"
    else:
        raise ValueError(call)
    return Mutant(name, file, call, flipped, tests, what)


JOIN_PULL_THEN_CREDIT = """\
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            self._pull(assets[i], amounts[i])
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self.balances[assets[i]] += amounts[i]
"""
JOIN_CREDIT_THEN_PULL = """\
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        self.balances[assets[i]] += amounts[i]
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            self._pull(assets[i], amounts[i])
"""
EXIT_DEBIT_THEN_SEND = """\
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        assert amounts[i] >= min_amounts_out[i], "vault: amount below minimum"
        self.balances[assets[i]] -= amounts[i]
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            assert extcall IERC20(assets[i]).transfer(receiver, amounts[i], default_return_value=True)
"""
EXIT_SEND_THEN_DEBIT = """\
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        if amounts[i] > 0:
            assert extcall IERC20(assets[i]).transfer(receiver, amounts[i], default_return_value=True)
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        assert amounts[i] >= min_amounts_out[i], "vault: amount below minimum"
        self.balances[assets[i]] -= amounts[i]
"""
EXIT_HEAD = """\
    assert shares > 0, "vault: zero shares"
    self._check_receiver(receiver)
    assert len(min_amounts_out) == len(assets), "vault: amounts length"
"""
BALANCE_OF = "staticcall IERC20({}).balanceOf(self)"
# Holdings (idle plus lent) of asset `assets[i]` with the idle part read from `balanceOf(self)`.
DONATED_HOLDING = "holdings[i] + staticcall IERC20(assets[i]).balanceOf(self) - self.balances[assets[i]]"
JOIN_AMOUNTS = "        amounts = rules._join_amounts(shares, self._holdings(True), supply)\n"
JOIN_AMOUNTS_DONATED = f"""\
        holdings: DynArray[uint256, constants.MAX_ASSETS] = self._holdings(True)
        for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
            holdings[i] = {DONATED_HOLDING}
        amounts = rules._join_amounts(shares, holdings, supply)
"""
EXIT_AMOUNTS = (
    "    amounts: DynArray[uint256, constants.MAX_ASSETS] = rules._exit_amounts(shares, self._balances(), supply)\n"
)
EXIT_AMOUNTS_DONATED = """\
    held: DynArray[uint256, constants.MAX_ASSETS] = []
    for asset: address in assets:
        held.append({})
    amounts: DynArray[uint256, constants.MAX_ASSETS] = rules._exit_amounts(shares, held, supply)
""".format(BALANCE_OF.format("asset"))

MUTANTS: list[Mutant] = [
    # ---- rebalance: every check removed, one at a time
    _removed(
        "not_keeper_removed",
        '    assert self.roles[msg.sender] & constants.ROLE_KEEPER != 0, "vault: not keeper"',
        REB,
        "rebalance: keeper role check removed",
    ),
    Mutant(
        "rebalance_open_check_removed",
        VAULT,
        '    self._check_open()\n    assert len(trades) > 0, "vault: no trades"\n',
        '    assert len(trades) > 0, "vault: no trades"\n',
        REB,
        "rebalance: pause/shutdown check (`self._check_open()`) removed",
    ),
    _removed(
        "no_trades_removed",
        '    assert len(trades) > 0, "vault: no trades"',
        REB,
        "rebalance: empty trade list check removed",
    ),
    _removed(
        "cooldown_removed",
        '    assert block.timestamp >= basket._last_rebalance() + cooldown, "vault: cooldown"',
        REB,
        "rebalance: cooldown check removed",
    ),
    Mutant(
        "last_rebalance_not_stamped",
        VAULT,
        "    basket._observe(assets, prices, True)\n",
        "    basket._observe(assets, prices, False)\n",
        REB,
        "rebalance: last rebalance not stamped (`basket._observe(..., False)`: no cooldown, calendar clock never resets)",
    ),
    _removed("not_due_removed", '    assert due, "vault: rebalance not due"', REB, "rebalance: trigger check removed"),
    _removed(
        "cost_removed",
        '    assert cost * constants.MAX_BPS <= value_before * max_cost, "vault: cost too high"',
        REB,
        "rebalance: cost cap check removed",
    ),
    _removed(
        "drift_grew_removed",
        '        assert after <= before + tolerance, "vault: drift grew"',
        REB,
        'rebalance (`rules._check_drifts`, via `Rules.settle`): per-asset "drift grew" check removed',
        file=RULES_MODULE,
    ),
    _flip(
        "drift_tolerance_rounded_down",
        "math._mul_div(cost, constants.WAD, value_after, True)",
        REB,
        "rebalance: drift-growth tolerance rounded down instead of up",
    ),
    _removed(
        "overshoot_removed",
        '        assert not crossed, "vault: overshoot"',
        REB,
        "rebalance (`rules._check_drifts`, via `Rules.settle`): overshoot check removed",
        file=RULES_MODULE,
    ),
    _removed(
        "drift_not_reduced_removed",
        '    assert total_after < total_before, "vault: drift not reduced"',
        REB,
        "rebalance (`rules._check_drifts`, via `Rules.settle`): total-drift check removed",
        file=RULES_MODULE,
    ),
    # ---- _execute
    _removed(
        "venue_allowed_removed",
        '    assert self.venue_allowed[trade.venue], "vault: venue not allowed"',
        REB,
        "_execute: venue whitelist check removed",
    ),
    _removed(
        "same_token_removed",
        '    assert trade.token_in != trade.token_out, "vault: same token"',
        REB,
        "_execute: same-token check removed",
    ),
    _removed(
        "trade_zero_amount_removed",
        '    assert trade.amount_in > 0, "vault: zero amount"',
        REB,
        "_execute: zero amount check removed",
    ),
    _removed(
        "trade_unknown_asset_removed",
        '    assert price_in != 0 and price_out != 0, "vault: unknown asset"',
        REB,
        "_execute: basket membership check removed",
    ),
    _removed(
        "amount_above_balance_removed",
        '    assert trade.amount_in <= self.balances[trade.token_in], "vault: amount above balance"',
        REB,
        "_execute: amount above tracked balance check removed",
    ),
    _removed(
        "venue_has_no_pool_removed",
        '    assert payee != empty(address), "vault: venue has no pool"',
        (*REB, HOSTILE),
        "_execute: check that the venue names a payee removed",
    ),
    _removed(
        "venue_took_wrong_amount_removed",
        "    assert in_before - staticcall IERC20(trade.token_in).balanceOf(self) == trade.amount_in,"
        ' "vault: venue took wrong amount"',
        (*REB, REENTRANCY, HOSTILE),
        "_execute: check that the venue kept exactly `amount_in` removed",
    ),
    _removed(
        "output_below_minimum_removed",
        '    assert received >= trade.min_amount_out, "vault: output below minimum"',
        (*REB, HOSTILE),
        "_execute: `min_amount_out` check removed",
    ),
    _removed(
        "slippage_removed",
        '    assert value_out * constants.MAX_BPS >= value_in * (constants.MAX_BPS - slippage), "vault: slippage"',
        (*REB, SANDWICH, ORACLE),
        "_execute: slippage check removed",
    ),
    _flip(
        "trade_value_in_rounded_down",
        "pricing._value(trade.token_in, spent, price_in, True)",
        (*REB, SANDWICH),
        "_execute: value sold rounded down instead of up (slippage and turnover)",
    ),
    _flip(
        "trade_value_out_rounded_up",
        "pricing._value(trade.token_out, received, price_out, False)",
        (*REB, SANDWICH),
        "_execute: value bought rounded up instead of down (slippage)",
    ),
    # ---- turnover (Rules.settle)
    _removed(
        "turnover_removed",
        '    assert used < 2**192 and used * constants.MAX_BPS <= value_before * cap, "vault: turnover cap"',
        REB,
        "Rules.settle: turnover cap check removed",
        file=RULES_CONTRACT,
    ),
    # ---- rounding of join, deposit, exit and valuation
    _flip(
        "first_join_value_rounded_up",
        "pricing._value(assets[i], max_amounts_in[i], pricing._price(assets[i]), False)",
        ENTRY,
        "join: first join's oracle value rounded up instead of down",
    ),
    _flip(
        "join_amounts_rounded_down",
        "math._mul_div(shares, balance, supply, True)",
        ENTRY,
        "join (`rules._join_amounts`): amounts in rounded down instead of up",
        file=RULES_MODULE,
    ),
    _flip(
        "exit_amounts_rounded_up",
        "math._mul_div(shares, balance, supply, False)",
        ENTRY,
        "exit (`rules._exit_amounts`): amounts out rounded up instead of down",
        file=RULES_MODULE,
    ),
    _flip(
        "deposit_total_rounded_down",
        "pricing._value(assets[i], holdings[i], prices[i], True)",
        (*ENTRY, FRONTRUN),
        "deposit: vault value (denominator) rounded down instead of up",
    ),
    _flip(
        "deposit_value_rounded_up",
        "pricing._value(asset, amount, price, False)",
        (*ENTRY, FRONTRUN),
        "deposit: deposited value rounded up instead of down",
    ),
    _flip(
        "deposit_net_rounded_up",
        "math._mul_div(usd_value, constants.MAX_BPS - haircut_bps, constants.MAX_BPS, False)",
        (*ENTRY, FRONTRUN),
        "deposit (`rules._deposit_shares`): value after haircut rounded up instead of down",
        file=RULES_MODULE,
    ),
    _flip(
        "deposit_shares_rounded_up",
        "math._mul_div(net, supply, vault_value_up, False)",
        (*ENTRY, FRONTRUN),
        "deposit (`rules._deposit_shares`): shares rounded up instead of down",
        file=RULES_MODULE,
    ),
    _flip(
        "valuation_rounded_up",
        "pricing._value(assets[i], holdings[i], prices[i], False)",
        (*REB, JOIN_DEPOSIT_EXIT),
        "_weights (total_value, weights, rebalance): holdings valued rounded up instead of down",
    ),
    Mutant(
        "weights_rounded_up",
        RULES_MODULE,
        "weights.append(usd_value * constants.WAD // total)",
        "weights.append(math._mul_div(usd_value, constants.WAD, total, True))",
        REB,
        "_weights (`rules._weights`): weights rounded up instead of down",
    ),
    Mutant(
        "pricing_value_always_down",
        PRICING,
        "return rules._value(amount, price, self.feed_config[asset], roundup)",
        "return rules._value(amount, price, self.feed_config[asset], False)",
        (*ENTRY, *REB),
        "pricing._value: `roundup` ignored, every value rounded down",
    ),
    # ---- deposit haircut
    Mutant(
        "deposit_haircut_ignored",
        VAULT,
        "rules._deposit_shares(usd_value, total, haircut, erc20.totalSupply)",
        "rules._deposit_shares(usd_value, total, 0, erc20.totalSupply)",
        (*ENTRY, FRONTRUN, VOL_HAIRCUT),
        "deposit: entry haircut (flat or volatility-scaled) ignored",
    ),
    # ---- exit must never be blocked
    Mutant(
        "exit_checks_pause",
        VAULT,
        EXIT_HEAD,
        '    assert self._status & packing.PAUSED == 0, "vault: paused"\n' + EXIT_HEAD,
        (JOIN_DEPOSIT_EXIT, ORACLE),
        "exit: reverts while paused",
    ),
    Mutant(
        "exit_checks_shutdown",
        VAULT,
        EXIT_HEAD,
        '    assert self._status & packing.SHUTDOWN == 0, "vault: shut down"\n' + EXIT_HEAD,
        (JOIN_DEPOSIT_EXIT, ORACLE),
        "exit: reverts after shutdown",
    ),
    Mutant(
        "exit_reads_prices",
        VAULT,
        EXIT_HEAD,
        "    assert len(self._prices()) == len(assets)\n" + EXIT_HEAD,
        (JOIN_DEPOSIT_EXIT, ORACLE, PRICING_TESTS),
        "exit: reads every oracle price (reverts when a feed is stale or broken)",
    ),
    # ---- ordering of transfers and bookkeeping
    Mutant(
        "join_credits_before_pull",
        VAULT,
        JOIN_PULL_THEN_CREDIT,
        JOIN_CREDIT_THEN_PULL,
        (REENTRANCY, JOIN_DEPOSIT_EXIT),
        "join: balances credited before the tokens are pulled",
    ),
    Mutant(
        "deposit_credits_before_pull",
        VAULT,
        "    self._pull(asset, amount)\n    self.balances[asset] += amount\n",
        "    self.balances[asset] += amount\n    self._pull(asset, amount)\n",
        (REENTRANCY, JOIN_DEPOSIT_EXIT),
        "deposit: balance credited before the token is pulled",
    ),
    Mutant(
        "exit_sends_before_debit",
        VAULT,
        EXIT_DEBIT_THEN_SEND,
        EXIT_SEND_THEN_DEBIT,
        (REENTRANCY, JOIN_DEPOSIT_EXIT),
        "exit: assets sent before the balances are debited",
    ),
    # ---- dead shares
    Mutant(
        "join_dead_shares_not_minted",
        VAULT,
        "        amounts = max_amounts_in\n        erc20._mint(self, constants.DEAD_SHARES)\n",
        "        amounts = max_amounts_in\n",
        (*ENTRY, REENTRANCY),
        "join: first join mints no dead shares",
    ),
    Mutant(
        "deposit_dead_shares_not_minted",
        VAULT,
        "    if erc20.totalSupply == 0:\n        erc20._mint(self, constants.DEAD_SHARES)\n",
        "",
        ENTRY,
        "deposit: first deposit mints no dead shares",
    ),
    # ---- donations counted (balanceOf(self) instead of the tracked balances)
    Mutant(
        "donation_counted_in_valuation",
        VAULT,
        "pricing._value(assets[i], holdings[i], prices[i], False)",
        f"pricing._value(assets[i], {DONATED_HOLDING}, prices[i], False)",
        (*REB, JOIN_DEPOSIT_EXIT),
        "_weights: values `balanceOf(self)` instead of `balances` (idle part of the holdings)",
    ),
    Mutant(
        "donation_counted_in_exit",
        VAULT,
        EXIT_AMOUNTS,
        EXIT_AMOUNTS_DONATED,
        ENTRY,
        "exit: pays pro rata of `balanceOf(self)` instead of `balances`",
    ),
    Mutant(
        "donation_counted_in_join",
        VAULT,
        JOIN_AMOUNTS,
        JOIN_AMOUNTS_DONATED,
        ENTRY,
        "join: takes pro rata of `balanceOf(self)` instead of `balances` (idle part of the holdings)",
    ),
    Mutant(
        "donation_counted_in_deposit",
        VAULT,
        "pricing._value(assets[i], holdings[i], prices[i], True)",
        f"pricing._value(assets[i], {DONATED_HOLDING}, prices[i], True)",
        (*ENTRY, FRONTRUN),
        "deposit: vault value from `balanceOf(self)` instead of `balances`",
    ),
    # ---- pricing checks (module)
    _removed(
        "stale_check_removed",
        '    assert block.timestamp - updated_at <= heartbeat, "pricing: stale"',
        (PRICING_TESTS, ORACLE),
        "pricing: heartbeat (staleness) check removed",
        file=PRICING,
    ),
    _removed(
        "bounds_check_removed",
        '    assert raw > packing._unpack(bounds, packing.MIN_ANSWER_AT, packing.ANSWER_BITS), "pricing: answer at bound"\n'
        '    assert raw < packing._unpack(bounds, packing.MAX_ANSWER_AT, packing.ANSWER_BITS), "pricing: answer at bound"',
        (PRICING_TESTS, ORACLE),
        "pricing: sane-bounds checks (both) removed",
        file=PRICING,
    ),
]


def stale_mutants(root: Path = ROOT) -> list[str]:
    """What is wrong with the mutant list against the sources under ``root``: a duplicate name, a
    snippet that does not occur exactly once in its file, a covering test file that does not
    exist. Empty when every mutant can be applied (``--list`` and tests/unit/test_mutate.py)."""
    problems = []
    names = [m.name for m in MUTANTS]
    problems += [f"duplicate mutant name {n}" for n in sorted({n for n in names if names.count(n) > 1})]
    for m in MUTANTS:
        path = root / m.file
        count = path.read_text().count(m.original) if path.exists() else 0
        if count != 1:
            problems.append(f"mutant {m.name}: its original snippet occurs {count} times in {m.file}, not once")
        problems += [f"mutant {m.name}: test file {t} does not exist" for t in m.tests if not (root / t).exists()]
    return problems


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class SuiteResult:
    suite: str
    failed: bool
    first_failure: str  # test id (and short reason) of the first failing test, or ""
    seconds: float
    timed_out: bool = False
    tests: int = 0  # testcases in the junit report
    file_seconds: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class MutantResult:
    name: str
    status: str  # killed, survived, invalid, timeout (or passed/FAILED for the baseline)
    first_failure: str
    seconds: float
    suites: list[SuiteResult]


def venv_bin() -> Path:
    return ROOT / ".venv" / "bin"


def python() -> str:
    candidate = venv_bin() / "python"
    return str(candidate) if candidate.exists() else sys.executable


def snapshot(dest: Path, ref: str | None) -> None:
    """Copy the project (working tree, or the tree of git ``ref``) into ``dest``."""
    if ref:
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    else:
        shutil.copytree(ROOT, dest, ignore=lambda _dir, names: [n for n in names if n in SKIP or n.endswith(".pyc")])
    for leftover in ("MUTATION.md",):
        (dest / leftover).unlink(missing_ok=True)
    # The Solidity test contracts (Morpho Blue and the ERC-4626 faces of tests/lending) are not
    # mutated and no mutant's suite uses them: left out, they are not recompiled for every mutant.
    for source in (dest / "contracts").rglob("*.sol"):
        source.unlink()
    if (ROOT / "node_modules").exists():
        (dest / "node_modules").symlink_to(ROOT / "node_modules")


def environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    path = [str(venv_bin()), str(root / "node_modules" / ".bin"), env.get("PATH", "")]
    env["PATH"] = os.pathsep.join(path)
    env["PYTHONPATH"] = str(root)  # the copy's `ballast`, not the editable install's
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("BALLAST_FUZZ_VAULT", None)
    env.pop("BALLAST_FUZZ_PROFILE", None)  # the CI profile
    env.pop("BALLAST_FUZZ_EVM", None)
    return env


def compile_error(root: Path, mutant: Mutant | None = None) -> str:
    """'' if the vault, and the mutated contract when it is another one (``Rules.vy``), pass the
    compiler's front end, else the last line of the first error. A mutated module is compiled as
    part of the vault, which imports every one."""
    sources = [VAULT]
    if mutant and mutant.file != VAULT and not mutant.file.startswith("contracts/modules/"):
        sources.append(mutant.file)
    for source in sources:
        proc = subprocess.run(
            [str(venv_bin() / "vyper"), "-f", "abi", source],
            cwd=root,
            env=environment(root),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
            return lines[-1] if lines else f"vyper exited with {proc.returncode} on {source}"
    return ""


def first_failure(junit: Path) -> tuple[str, int, dict[str, float]]:
    """(first failing testcase with its short reason, testcases, seconds per file) of a junit report."""
    if not junit.exists():
        return "", 0, {}
    tree = ET.parse(junit)
    failure = ""
    count = 0
    per_file: dict[str, float] = {}
    for case in tree.iter("testcase"):
        count += 1
        module = case.get("classname", "").split(".")
        key = ".".join(part for part in module if not part[:1].isupper()) or "?"
        per_file[key] = per_file.get(key, 0.0) + float(case.get("time", 0) or 0)
        if failure:
            continue
        for tag in ("failure", "error"):
            node = case.find(tag)
            if node is None:
                continue
            message = (node.get("message") or (node.text or "")).strip().splitlines()
            reason = message[0] if message else tag
            if len(reason) > 110:
                reason = reason[:107] + "..."
            suffix = " (error)" if tag == "error" else ""
            failure = f"{case.get('classname', '')}::{case.get('name', '')}{suffix}: {reason}"
            break
    return failure, count, per_file


def run_suite(
    suite: str, args: list[str], root: Path, timeout: float, log, shrink: bool, logs: Path | None = None
) -> SuiteResult:
    junit = root / f".junit-{suite}.xml"
    if suite == "stateful":
        cmd = [python(), "-m", "pytest", *args, "-p", "no:ape_test"]
        if not shrink:
            cmd += ["-p", "ballast.mutate"]
    else:
        cmd = [str(venv_bin() / "ape"), "test", *args]
    cmd += ["-q", "-p", "no:cacheprovider", "-x", "-rf", f"--junitxml={junit}"]
    log(f"    $ {' '.join([Path(cmd[0]).name, *cmd[1:]])}")
    start = time.perf_counter()
    timed_out = False
    try:
        proc = subprocess.run(
            cmd,
            cwd=root,
            env=environment(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        output, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code, timed_out = -1, True
    seconds = time.perf_counter() - start
    (root / f".log-{suite}.txt").write_text(output)
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{root.name}-{suite}.txt").write_text(output)
    failure, count, per_file = first_failure(junit)
    failed = code != 0
    if failed and not failure:
        tail = [line for line in output.splitlines() if line.strip()][-1:] or [f"exit code {code}"]
        failure = f"timeout after {timeout:.0f}s" if timed_out else f"{suite}: {tail[0][:110]}"
    for line in output.splitlines():
        if line.startswith("ballast stateful fuzz"):
            log(f"    {line}")
    return SuiteResult(suite, failed, failure, seconds, timed_out, count, per_file)


def suites_for(mutant: Mutant | None, chosen: list[Mutant], full: bool) -> list[tuple[str, list[str]]]:
    """The (suite, pytest arguments) a mutant runs; the baseline runs the union over ``chosen``."""
    stateful = list(STATEFUL_FULL if full else STATEFUL_FAST)
    if full:
        return [("stateful", stateful), ("ape", list(APE_FULL))]
    if mutant is None:
        files: list[str] = []
        for m in chosen:
            files += [t for t in m.tests if t not in files]
        return [("stateful", stateful), ("ape", files)]
    suites = [("stateful", stateful)] if mutant.stateful else []
    if mutant.tests:
        suites.append(("ape", list(mutant.tests)))
    return suites


def run_one(
    mutant: Mutant | None,
    suites: list[tuple[str, list[str]]],
    pristine: Path,
    workdir: Path,
    timeouts: dict[str, float],
    keep_going: bool,
    keep: bool,
    shrink: bool,
    log,
) -> MutantResult:
    name = mutant.name if mutant else "baseline"
    start = time.perf_counter()
    root = workdir / name
    shutil.copytree(pristine, root, symlinks=True)
    results: list[SuiteResult] = []
    try:
        if mutant:
            mutant.apply(root)
            error = compile_error(root, mutant)
            if error:
                return MutantResult(name, "invalid", f"does not compile: {error}", time.perf_counter() - start, [])
        for suite, args in suites:
            result = run_suite(suite, args, root, timeouts.get(suite, 3_600), log, shrink, workdir / "logs")
            results.append(result)
            log(
                f"    {suite}: {'FAILED' if result.failed else 'passed'} in {result.seconds:.0f}s"
                + (f" -- {result.first_failure}" if result.failed else "")
            )
            # A timeout is no clean kill (a loaded machine is slow too): the next suites still run.
            if result.failed and not result.timed_out and not keep_going:
                break
    finally:
        if keep:
            log(f"    kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    failed = [r for r in results if r.failed]
    seconds = time.perf_counter() - start
    if mutant is None:
        status = "FAILED" if failed else "passed"
    elif not failed:
        status = "survived"
    elif all(r.timed_out for r in failed):
        status = "timeout"
    else:
        status = "killed"
    first = next((r for r in failed if not r.timed_out), failed[0]) if failed else None
    return MutantResult(name, status, first.first_failure if first else "", seconds, results)


# --------------------------------------------------------------------------- reporting


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def suites_cell(r: MutantResult) -> str:
    def word(s: SuiteResult) -> str:
        if r.name == "baseline":
            return "FAILED" if s.failed else "passed"
        return "timeout" if s.timed_out else ("killed" if s.failed else "survived")

    return ", ".join(f"{s.suite} {word(s)} ({s.seconds:.0f}s)" for s in r.suites)


def table_rows(results: list[MutantResult]) -> list[str]:
    rows = ["| mutant | result | first failing test | seconds | suites run |", "| --- | --- | --- | ---: | --- |"]
    for r in results:
        rows.append(
            f"| `{r.name}` | {r.status} | {cell(r.first_failure) or '-'} | {r.seconds:.0f} | {suites_cell(r) or '-'} |"
        )
    return rows


RESULTS_TAG = "<!-- ballast.mutate results: "


def load_report(path: Path) -> tuple[list[dict], dict[str, MutantResult]]:
    """The runs and results embedded in an earlier report (for ``--update``)."""
    if not path.exists():
        return [], {}
    text = path.read_text()
    at = text.find(RESULTS_TAG)
    if at < 0:
        return [], {}
    data = json.loads(text[at + len(RESULTS_TAG) : text.index(" -->", at)])
    results = {}
    for item in data["results"]:
        suites = [SuiteResult(**s) for s in item.pop("suites")]
        results[item["name"]] = MutantResult(**item, suites=suites)
    return data["runs"], results


def markdown(runs: list[dict], results: dict[str, MutantResult]) -> str:
    order = {name: k for k, name in enumerate(["baseline", *(m.name for m in MUTANTS)])}
    rows = sorted(results.values(), key=lambda r: order.get(r.name, len(order)))
    mutants = [r for r in rows if r.name != "baseline"]
    count = collections.Counter(r.status for r in mutants)
    survived = [r for r in mutants if r.status == "survived"]
    summary = f"Killed {count['killed']} of {len(mutants)} mutants"
    if count["timeout"]:
        summary += f", {count['timeout']} timed out"
    if count["invalid"]:
        summary += f", {count['invalid']} did not compile"
    summary += f"; survived {len(survived)}" + (f": {', '.join(f'`{r.name}`' for r in survived)}." if survived else ".")
    lines = ["# Mutation testing", "", "Generated by:", ""]
    for run in runs:
        lines.append(
            f"* `{run['command']}` on {run['started']} (commit {run['commit']}, {run['tree']}): suite `{run['suite']}`,"
            f" {run['mode']}; {len(run['mutants'])} mutants, wall time {run['wall'] / 60:.0f} min."
        )
    lines += [
        "",
        summary,
        "",
        "Each mutant is one change to a fresh copy of the project (`ballast/mutate.py` lists them, with the"
        " exact snippets). Suites run in order, each with `-x`: `stateful` is"
        f" `pytest {' '.join(STATEFUL_FAST)}` (the state machine's CI profile, derandomized, with hypothesis'"
        " shrink phase off), `ape` is `ape test` over the mutant's unit and adversarial files (below; with"
        " `--suite full`: tests/stateful, tests/unit and tests/adversarial). A suite that times out (4x its"
        " baseline) does not stop the next one. `seconds` includes the copy and the compile check.",
        "",
        *table_rows(rows),
        "",
        "## Mutants",
        "",
        "| mutant | file | change | ape test files |",
        "| --- | --- | --- | --- |",
    ]
    by_name = {m.name: m for m in MUTANTS}
    for r in mutants:
        m = by_name.get(r.name)
        if m:
            lines.append(f"| `{m.name}` | {m.file} | {cell(m.what)} | {', '.join(Path(t).name for t in m.tests)} |")
    data = {"runs": runs, "results": [dataclasses.asdict(r) for r in rows]}
    lines += ["", RESULTS_TAG + json.dumps(data, separators=(",", ":")).replace("--", "-\\u002d") + " -->", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- pytest plugin


def pytest_collection_modifyitems(session, config, items):
    """Loaded with ``-p ballast.mutate`` (stateful suite only): the registered hypothesis profiles
    lose their shrink phase, so a failing example is reported as found instead of after minutes
    of shrinking. The examples generated are unchanged."""
    from hypothesis import Phase, settings
    from hypothesis.errors import InvalidArgument

    for name in ("ci", "long"):
        try:
            profile = settings.get_profile(name)
        except InvalidArgument:
            continue
        phases = [p for p in profile.phases if p not in (Phase.shrink, Phase.explain)]
        settings.register_profile(name, settings(profile, phases=phases))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ballast.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run this mutant (repeatable; a prefix works)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--suite",
        choices=["fast", "full"],
        default="fast",
        help="fast: stateful CI profile + the mutant's unit/adversarial files; full: tests/stateful + tests/unit"
        " + tests/adversarial for every mutant",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "MUTATION.md", help="markdown report (default MUTATION.md)")
    parser.add_argument(
        "--update", action="store_true", help="merge into the results already in --out (rerun some mutants)"
    )
    parser.add_argument("--keep-going", action="store_true", help="run every suite of a mutant, even after a kill")
    parser.add_argument("--shrink", action="store_true", help="keep hypothesis' shrink phase in the stateful suite")
    parser.add_argument("--ref", help="test the tree of this git ref instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep each mutant's folder (under --workdir)")
    parser.add_argument("--workdir", type=Path, help="where the copies go (default: a fresh temporary folder)")
    parser.add_argument("--check", action="store_true", help="apply and compile each mutant, run no tests")
    parser.add_argument("--baseline-only", action="store_true", help="time the unmutated suites and stop")
    parser.add_argument(
        "--timeout-factor", type=float, default=4.0, help="a suite times out after this many times its baseline"
    )
    args = parser.parse_args(argv)

    chosen = MUTANTS
    if args.only:
        chosen = [m for m in MUTANTS if any(m.name == o or m.name.startswith(o) for o in args.only)]
        unknown = [o for o in args.only if not any(m.name == o or m.name.startswith(o) for m in MUTANTS)]
        if unknown:
            parser.error(f"no mutant named {', '.join(unknown)} (see --list)")
    # Every snippet must occur exactly once in the current source, even for mutants not run.
    problems = stale_mutants(ROOT)
    if problems:
        raise SystemExit("\n".join(problems))

    if args.list:
        for m in chosen:
            suites = " + ".join(
                f"{s}({' '.join(Path(a).name for a in a_)})" for s, a_ in suites_for(m, chosen, args.suite == "full")
            )
            print(f"{m.name:36} {m.file:30} {m.what}\n{'':36} {suites}")
        return 0

    command = " ".join(["python -m ballast.mutate", *(sys.argv[1:] if argv is None else argv)])
    started = datetime.datetime.now()
    t0 = time.perf_counter()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ballast-mutate-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pristine = workdir / "pristine"

    def log(message: str) -> None:
        print(message, flush=True)

    log(f"{command}: {len(chosen)} mutants, suite {args.suite}, copies under {workdir}")
    snapshot(pristine, args.ref)
    full = args.suite == "full"

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    runs, merged = load_report(args.out) if args.update else ([], {})
    run = {
        "command": command,
        "started": f"{started:%Y-%m-%d %H:%M}",
        "commit": commit.stdout.strip() or "?",
        "tree": f"the tree of {args.ref}" if args.ref else "the working tree",
        "suite": args.suite,
        "mode": "every suite of a mutant" if args.keep_going else "stopping at the first suite that kills",
        "mutants": [m.name for m in chosen],
        "wall": 0.0,
    }
    if args.shrink:
        run["mode"] += ", shrinking on"
    runs.append(run)

    def write(results: list[MutantResult]) -> None:
        run["wall"] = time.perf_counter() - t0
        merged.update({r.name: r for r in results})
        args.out.write_text(markdown(runs, merged))

    if args.check:
        bad = 0
        for mutant in chosen:
            root = workdir / mutant.name
            shutil.copytree(pristine, root, symlinks=True)
            mutant.apply(root)
            error = compile_error(root, mutant)
            bad += bool(error)
            log(f"{mutant.name:36} {error or 'compiles'}")
            shutil.rmtree(root, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        return 1 if bad else 0

    log("baseline (unmutated copy):")
    baseline = run_one(None, suites_for(None, chosen, full), pristine, workdir, {}, True, args.keep, args.shrink, log)
    results = [baseline]
    if baseline.status != "passed":
        log(f"baseline FAILED: {baseline.first_failure}; aborting (see the logs under {workdir} with --keep)")
        print("\n".join(table_rows(results)))
        return 2
    timeouts = {s.suite: max(args.timeout_factor * s.seconds, 300.0) for s in baseline.suites}
    for s in baseline.suites:
        log(f"  {s.suite}: {s.tests} tests in {s.seconds:.0f}s")
        for key, secs in sorted(s.file_seconds.items(), key=lambda kv: -kv[1]):
            log(f"      {key}: {secs:.0f}s")
    if args.baseline_only:
        print("\n".join(table_rows(results)))
        return 0

    for k, mutant in enumerate(chosen, 1):
        log(f"[{k}/{len(chosen)}] {mutant.name}: {mutant.what}")
        result = run_one(
            mutant,
            suites_for(mutant, chosen, full),
            pristine,
            workdir,
            timeouts,
            args.keep_going,
            args.keep,
            args.shrink,
            log,
        )
        log(f"  -> {result.status} in {result.seconds:.0f}s {result.first_failure}")
        results.append(result)
        write(results)

    write(results)
    if not args.keep:
        shutil.rmtree(pristine, ignore_errors=True)
    print()
    print("\n".join(table_rows(results)))
    print(f"\nsuite logs under {workdir / 'logs'}")
    print(f"\nwall time {(time.perf_counter() - t0) / 60:.1f} min; report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
