"""A vault with a history, on anvil, for the dashboard's browser tests and its screenshots.

The persistent node's provisioning (:func:`ballast.node.provision`: the demo spec's market, a
factory, a vault and a lens, depositors TEST::3 and TEST::4 funded, a $1M first join), on one
constant-product AMM with settable feeds so that it deploys fast, then a history the page must
show: a deposit that unbalances the basket and the keeper's rebalance, half of the idle USDC and
WETH lent into Morpho Blue markets with borrowers (``ballast.demo.lend_idle``), a WBTC rally, a
second deposit and a second rebalance, and half a day for the loans to accrue interest.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import yaml

from ballast import keeper as keeper_path
from ballast import node
from ballast.chain.deploy import feed_answer
from ballast.chain.erc20 import token_at
from ballast.chain.market import arbitrage
from ballast.depositor import entries
from ballast.depositor.target import resolve
from ballast.spec import spec_from_dict

ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = ROOT / "node_modules" / ".bin"
HOUR, DAY = 3_600, 86_400
DEPLOYER, KEEPER, GUARDIAN, ALICE, BOB, ARB, LENDER, BORROWER = range(8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def anvil_env(monkeypatch) -> None:
    """ape-foundry finds anvil on PATH; APE_FOUNDRY_HOST would override the chosen port."""
    monkeypatch.setenv("PATH", f"{ANVIL_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("APE_FOUNDRY_HOST", raising=False)


def small_demo_spec():
    """specs/demo.yaml on one constant-product AMM with settable feeds: the same vault, deployed fast."""
    data = yaml.safe_load((ROOT / "specs" / "demo.yaml").read_text())
    data["market"] = {"venue": "amm", "fee_bps": 30, "depth_usd": 20_000_000}
    data["feeds"]["kind"] = "mock"
    return spec_from_dict(data)


@dataclass
class Stack:
    target: object
    spec: object
    book: Path
    venue: object
    feeds: list
    rebalances: list  # receipts of the keeper's rebalances
    sleeve: object


def pass_time(chain, seconds: int) -> None:
    chain.provider.make_request("evm_increaseTime", [seconds])
    chain.mine()


def rebalance(stack_target, venue, keeper, chain):
    """The keeper path (read, decide, send), as ``ape run keeper --send`` runs it; returns the receipt."""
    vault, lens = stack_target.vault, stack_target.lens
    state, market = keeper_path.read(vault, [venue], stack_target.tokens, token_at, chain.pending_timestamp, lens)
    decision = keeper_path.decide(vault, state, market)
    assert decision.actionable, decision.reason
    return keeper_path.send(vault, decision, keeper)


def move_price(stack, i: int, price: float, arb, owner) -> None:
    """A new oracle round for every asset (asset ``i`` at ``price``, the others unchanged), then
    the pools arbitraged to the oracle prices."""
    d = stack.spec.feed_decimals
    for j, feed in enumerate(stack.feeds):
        feed.set_answer(feed_answer(price, d) if j == i else int(feed.latest_answer()), sender=owner)
    prices = [int(f.latest_answer()) * 10 ** (18 - d) for f in stack.feeds]
    arbitrage(stack.venue, stack.target.tokens, prices, stack.target.decimals, arb)


def build(project, provider, chain, accounts, folder: Path) -> Stack:
    """Deploy and give the vault its history (see the module's docstring)."""
    from ballast.demo import lend_idle

    spec = small_demo_spec()
    book = folder / "local.json"
    entry = node.provision(project, provider, accounts, spec, book)
    target = resolve(project, provider, folder=folder)
    owner, keeper, bob, arb = accounts[DEPLOYER], accounts[KEEPER], accounts[BOB], accounts[ARB]
    venue = project.ConstantProductAMM.at(entry["venues"][0])
    feeds = [project.MockPriceFeed.at(a) for a in entry["feeds"]]
    mocks = [project.MockERC20.at(t.address) for t in target.tokens]
    for token in mocks:
        token.mint(arb, 2**200, sender=owner)
        token.approve(venue, 2**256 - 1, sender=arb)
    stack = Stack(target, spec, book, venue, feeds, [], None)

    # 1. Bob deposits $250k of USDC: USDC past its outer band; an hour later the keeper rebalances.
    usdc = 250_000 * 10 ** target.decimals[0]
    entries.send(target, entries.preview_deposit(target, bob.address, "USDC", usdc), bob)
    pass_time(chain, HOUR + 1)
    stack.rebalances.append(rebalance(target, venue, keeper, chain))

    # 2. Half of the idle USDC and WETH lent into Morpho Blue markets with borrowers.
    stack.sleeve, _, _ = lend_idle(
        project, owner, keeper, accounts[LENDER], accounts[BORROWER], target.vault, spec, mocks
    )

    # 3. WBTC +8% half a day later (every feed posts a round: their heartbeat is a day), then Bob deposits $200k of WETH: WETH past its outer band; rebalanced.
    pass_time(chain, DAY // 2)
    move_price(stack, 1, spec.assets[1].price * 1.08, arb, owner)
    weth = 200_000 * 10 ** target.decimals[2] // int(spec.assets[2].price)
    entries.send(target, entries.preview_deposit(target, bob.address, "WETH", weth), bob)
    pass_time(chain, HOUR + 1)
    stack.rebalances.append(rebalance(target, venue, keeper, chain))

    # 4. Half a day more for the loans to accrue (the feeds stay within their heartbeat).
    pass_time(chain, DAY // 2)
    return stack
