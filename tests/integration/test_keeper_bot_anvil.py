"""The keeper bot's loop (ballast.bot.KeeperLoop) against the demo stack on anvil, over JSON-RPC.

`ape test` runs on ape's embedded EthTester chain; this module starts its own anvil (npm's
@foundry-rs/anvil, node_modules/.bin/anvil) on a free loopback port with the Cancun hardfork,
through ape-foundry, switches ape to it for the test and stops it afterwards. Skipped, with the
reason, when anvil is not installed (`npm ci --no-audit --no-fund`, or `make test`).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ballast.bot import DRY_RUN, FAILED, SENT, SKIP, WAIT, KeeperLoop, loop_from_env, metrics
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, load_spec
from ballast.chain.market import arbitrage
from ballast.constants import ROLE_GUARDIAN

ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = ROOT / "node_modules" / ".bin"
SPEC = ROOT / "specs" / "demo.yaml"
HOUR = 3_600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def anvil(networks, monkeypatch):
    """ape connected to a fresh anvil for one test; anvil is stopped when the test ends."""
    if not (ANVIL_BIN / "anvil").exists():
        pytest.skip(f"{ANVIL_BIN / 'anvil'} is missing: run `npm ci --no-audit --no-fund` (or `make test`)")
    # ape-foundry finds anvil on PATH; APE_FOUNDRY_HOST would override the port chosen here.
    monkeypatch.setenv("PATH", f"{ANVIL_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("APE_FOUNDRY_HOST", raising=False)
    settings = {"host": f"http://127.0.0.1:{_free_port()}", "evm_version": "cancun"}
    with networks.ethereum.local.use_provider("foundry", provider_settings=settings, disconnect_after=True) as provider:
        assert "anvil" in provider.make_request("web3_clientVersion", []).lower()
        yield provider


class Demo:
    """The demo stack (specs/demo.yaml) on anvil, seeded with $1M at target weights."""

    def __init__(self, project, chain, accounts):
        self.project, self.chain = project, chain
        self.owner, self.keeper, self.guardian, self.alice, self.arb = accounts[:5]
        self.spec = load_spec(SPEC)
        market = deploy_local_market(project, self.owner, self.spec)
        self.tokens, self.feeds, self.venue = market.tokens, market.feeds, market.venue
        self.vault = deploy_vault(
            project, self.owner, self.spec, self.tokens, self.feeds, [self.venue], keeper=self.keeper
        )
        self.vault.set_role(self.guardian, ROLE_GUARDIAN, sender=self.owner)
        self.lens = project.VaultLens.deploy(sender=self.owner)
        seed = [int(1_000_000 * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in self.spec.assets]
        for token, amount in zip(self.tokens, seed):
            token.mint(self.alice, amount, sender=self.owner)
            token.approve(self.vault, amount, sender=self.alice)
            token.mint(self.arb, 2**200, sender=self.owner)
            token.approve(self.venue, 2**256 - 1, sender=self.arb)
        self.vault.join(0, seed, self.alice, sender=self.alice)

    def move_price(self, i: int, price: float) -> None:
        """A new oracle round for asset ``i``, then arbitrage of the pools to the oracle prices."""
        d = self.spec.feed_decimals
        self.feeds[i].set_answer(feed_answer(price, d), sender=self.owner)
        prices = [int(f.latest_answer()) * 10 ** (18 - d) for f in self.feeds]
        arbitrage(self.venue, self.tokens, prices, [a.decimals for a in self.spec.assets], self.arb)

    def pass_time(self, seconds: int) -> None:
        self.chain.provider.make_request("evm_increaseTime", [seconds])
        self.chain.mine()

    def head(self):
        return self.chain.blocks.head


def test_keeper_loop__anvil__rebalances_once_per_state_and_survives_reverts(anvil, project, chain, accounts, caplog):
    caplog.set_level(logging.INFO, logger="ballast.bot")
    demo = Demo(project, chain, accounts)
    vault, keeper, lens = demo.vault, demo.keeper, demo.lens
    # Wired from the environment exactly as bots/keeper.py does it.
    env = {
        "BALLAST_VAULT": str(vault.address),
        "BALLAST_LENS": str(lens.address),
        "BALLAST_VENUES": f" {demo.venue.address} ,",
        "BALLAST_FEEDS": ",".join(str(f.address) for f in demo.feeds),
        "BALLAST_KEEPER": "TEST::1",
        "BALLAST_OBSERVE": "1",
    }
    loop = loop_from_env(project, env)
    assert isinstance(loop, KeeperLoop) and loop.keeper.address == keeper.address
    assert len(loop.feeds) == 4 and loop.observe and [v.address for v in loop.venues] == [demo.venue.address]
    dry = loop_from_env(project, {**env, "BALLAST_KEEPER": "", "BALLAST_OBSERVE": ""})  # no keeper: dry run
    with pytest.raises(ValueError, match="BALLAST_VAULT"):
        loop_from_env(project, {"BALLAST_VENUES": env["BALLAST_VENUES"]})
    sends = []  # every rebalance the loop lets out, seen just before it goes

    def count_send(decision):
        sends.append(decision.state.last_rebalance)

    loop.before_send = count_send

    # 1. Right after deployment the cooldown holds; then, on target, blocks and ticks wait,
    #    with the reason, and no rebalance is sent.
    assert loop.on_block(demo.head()).reason.startswith("cooldown")
    demo.pass_time(HOUR + 1)
    first = loop.on_block(demo.head())
    assert first.action == WAIT and first.reason.startswith("not due"), first
    tick = loop.on_tick(datetime.now(UTC))
    assert tick.action == WAIT, tick
    assert int(lens.last_observation(vault)) > 0  # the tick fed the hybrid trigger's volatility estimate
    assert sends == []

    # 2. WBTC +80% (a new oracle round, pools arbitraged): past its outer band, the next block
    #    rebalances. (Outer-band moves keep the test independent of the volatility estimate.)
    demo.move_price(1, 108_000.0)
    nonce = keeper.nonce
    would = dry.on_block(demo.head())
    assert would.action == DRY_RUN and keeper.nonce == nonce, would
    done = loop.on_block(demo.head())
    assert done.action == SENT, done
    assert metrics(done, loop)["rebalance_sent"] == 1
    assert "Rebalanced (outer band)" in done.reason
    first_rebalance = int(lens.last_rebalance(vault))
    assert first_rebalance > 0
    receipt = chain.get_receipt(done.txn_hash)
    assert len(receipt.events.filter(vault.Rebalanced)) == 1
    assert lens.max_drift(vault) < 3 * 10**16
    assert keeper.nonce == nonce + 1
    assert len(sends) == 1

    # 3. The blocks and ticks after it wait out the cooldown; an old block is skipped.
    chain.mine()
    assert loop.on_block(demo.head()).reason.startswith("cooldown")
    assert loop.on_tick(datetime.now(UTC)).reason.startswith("cooldown")
    assert loop.on_block(demo.head()).action == SKIP  # same block again: not newer
    assert keeper.nonce == nonce + 1 and len(sends) == 1

    # 4. After the cooldown WETH -60%; the guardian pauses the vault between decide and send.
    demo.pass_time(HOUR + 1)
    demo.move_price(2, 1_200.0)

    def pause_then_send(decision):
        count_send(decision)
        vault.pause(sender=demo.guardian)

    loop.before_send = pause_then_send
    caplog.clear()
    failed = loop.on_block(demo.head())
    assert failed.action == FAILED, failed
    assert "vault: paused" in failed.reason
    assert any(r.levelno == logging.ERROR and "vault: paused" in r.getMessage() for r in caplog.records)
    assert int(lens.last_rebalance(vault)) == first_rebalance
    assert len(sends) == 2
    loop.before_send = count_send

    # 5. The loop carries on. Paused, it waits; unpaused, the state is the one it already sent
    #    for, so it sends nothing, block after block.
    chain.mine()
    assert loop.on_block(demo.head()).reason == "vault is paused"
    vault.unpause(sender=demo.guardian)
    nonce = keeper.nonce
    for _ in range(2):
        chain.mine()
        again = loop.on_block(demo.head())
        assert again.action == SKIP and "already sent a rebalance for this state" in again.reason, again
    assert keeper.nonce == nonce
    # A tick an hour on also records a volatility observation (its own transaction), but no rebalance.
    assert loop.on_tick(datetime.now(UTC)).action == SKIP
    assert len(sends) == 2

    # 6. A new oracle round (same price) is a new state: the next tick rebalances.
    demo.move_price(2, 1_200.0)
    done = loop.on_tick(datetime.now(UTC))
    assert done.action == SENT, done
    second_rebalance = int(lens.last_rebalance(vault))
    assert second_rebalance > first_rebalance
    assert len(sends) == 3

    # 7. The owner removes the venue the loop plans on: the send reverts, is logged, and once the
    #    venue is back and a new state comes, the loop rebalances again.
    demo.pass_time(HOUR + 1)
    demo.move_price(1, 54_000.0)
    vault.set_venue(demo.venue, False, sender=demo.owner)
    caplog.clear()
    failed = loop.on_block(demo.head())
    assert failed.action == FAILED and "venue not allowed" in failed.reason, failed
    assert any(r.levelno == logging.ERROR and "venue not allowed" in r.getMessage() for r in caplog.records)
    vault.set_venue(demo.venue, True, sender=demo.owner)
    chain.mine()
    assert loop.on_block(demo.head()).action == SKIP
    demo.move_price(1, 54_000.0)
    done = loop.on_block(demo.head())
    assert done.action == SENT, done
    assert int(lens.last_rebalance(vault)) > second_rebalance

    # Never two sends for one state, and every outcome carries its reason.
    sent_keys = [o.key for o in loop.history([SENT, FAILED])]
    assert len(sent_keys) == len(set(sent_keys)) == len(sends) == 5
    assert loop.count(SENT) == 3 and loop.count(FAILED) == 2
    assert all(o.reason for o in loop.outcomes)


@pytest.mark.skipif(
    not os.environ.get("BALLAST_SILVERBACK_E2E"),
    reason="opt-in (~1 min more): set BALLAST_SILVERBACK_E2E=1 to run `silverback run bots.keeper:bot` on anvil",
)
def test_silverback_run__anvil__the_bot_rebalances(anvil, project, chain, accounts, tmp_path):
    """The real bot: `silverback run bots.keeper:bot` in a subprocess, on this test's anvil."""
    silverback = shutil.which("silverback") or str(Path(sys.executable).with_name("silverback"))
    demo = Demo(project, chain, accounts)
    demo.pass_time(HOUR + 1)
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": anvil.uri,  # the subprocess connects to this anvil, does not start one
        "PYTHONPATH": str(ROOT),
        "BALLAST_VAULT": str(demo.vault.address),
        "BALLAST_LENS": str(demo.lens.address),
        "BALLAST_VENUES": str(demo.venue.address),
        "BALLAST_FEEDS": ",".join(str(f.address) for f in demo.feeds),
        "BALLAST_KEEPER": "TEST::1",
    }
    sessions = ROOT / ".silverback-sessions"  # silverback keeps its state snapshot in the cwd
    had_sessions = sessions.exists()
    log_path = tmp_path / "bot.log"
    with log_path.open("w") as log:
        bot = subprocess.Popen(
            [silverback, "run", "bots.keeper:bot", "--network", "ethereum:local:foundry"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Startup complete" not in log_path.read_text():
            assert bot.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the bot did not start in 120 s:\n" + log_path.read_text()[-3000:]
            time.sleep(0.5)
        before = int(demo.lens.last_rebalance(demo.vault))
        demo.move_price(1, 108_000.0)
        deadline = time.monotonic() + 60
        while int(demo.lens.last_rebalance(demo.vault)) == before:
            assert time.monotonic() < deadline, "no rebalance in 60 s:\n" + log_path.read_text()[-3000:]
            time.sleep(1)
            chain.mine()  # blocks keep coming, as on a live chain
        for _ in range(3):
            chain.mine()
            time.sleep(1)
        text = log_path.read_text()
        assert text.count(": sent (") == 1, text[-3000:]
        assert "wait (cooldown" in text
    finally:
        bot.terminate()
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
        if not had_sessions:
            shutil.rmtree(sessions, ignore_errors=True)
