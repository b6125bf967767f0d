"""The keeper fleet (bots/fleet.py, ballast/fleet.py) on anvil and a real Redis.

Each test starts a `redis-server` (Debian's package) on a free loopback port and anvil (npm's
@foundry-rs/anvil) the same way as test_keeper_bot_anvil.py, and stops both afterwards. Without
redis-server the tests skip with one line, except under CI=true, where they fail (.ci/run
installs it). See tests/integration/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from eth_utils import keccak

from ballast import keeper as keeper_path
from ballast.bot import SENT, SKIP, WAIT, Sent
from ballast.chain.deploy import deploy_local_market, deploy_vault, feed_answer, load_spec
from ballast.chain.market import arbitrage
from ballast.chain.state import read_state
from ballast.fleet import RedisLedger, config_from_records, fleet_config_from_dict, fleet_from_config, redis_client

ROOT = Path(__file__).resolve().parents[2]
ANVIL_BIN = ROOT / "node_modules" / ".bin"
SPEC = ROOT / "specs" / "demo.yaml"
HOUR = 3_600
N_VAULTS = 6
BOT_NAME = "ballast-fleet-test"  # the runner keeps its snapshot in <cwd>/.silverback-sessions/<this>/


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, grace: float = 20) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_url(tmp_path):
    """A fresh redis-server on a free loopback port (no persistence); stopped afterwards."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        message = "redis-server is missing: apt-get install -y redis-server (.ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    log = (tmp_path / "redis.log").open("w")
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                redis_client(url)
                break
            except ValueError:
                assert server.poll() is None, (tmp_path / "redis.log").read_text()
                assert time.monotonic() < deadline, "redis-server did not answer in 20 s"
                time.sleep(0.1)
        yield url
    finally:
        _stop(server, 10)
        log.close()


@pytest.fixture
def anvil(networks, monkeypatch):
    """ape connected to a fresh anvil for one test; anvil is stopped when the test ends."""
    if not (ANVIL_BIN / "anvil").exists():
        pytest.skip(f"{ANVIL_BIN / 'anvil'} is missing: run `npm ci --no-audit --no-fund` (or `make test`)")
    monkeypatch.setenv("PATH", f"{ANVIL_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("APE_FOUNDRY_HOST", raising=False)
    settings = {"host": f"http://127.0.0.1:{_free_port()}", "evm_version": "cancun"}
    with networks.ethereum.local.use_provider("foundry", provider_settings=settings, disconnect_after=True) as provider:
        assert "anvil" in provider.make_request("web3_clientVersion", []).lower()
        yield provider


class Stack:
    """``count`` vaults like the demo's (specs/demo.yaml: three of its assets, one Uniswap V2
    venue), each on its own tokens, feeds and pools, so each drifts only when its own prices
    move; $1M joined at target in each; one VaultLens for all."""

    def __init__(self, project, chain, accounts, count: int):
        self.project, self.chain = project, chain
        self.owner, self.keeper, self.alice, self.arb = accounts[0], accounts[1], accounts[3], accounts[4]
        demo = load_spec(SPEC)
        # Three of the demo's assets (USDC, WBTC, WETH at 40/35/25), to deploy six markets quickly.
        assets = [replace(a, target_bps=t) for a, t in zip(demo.assets[:3], (4_000, 3_500, 2_500))]
        self.spec = replace(demo, assets=assets, market_venues=[("uniswap_v2", 30)], depth_usd=5_000_000)
        self.lens = project.VaultLens.deploy(sender=self.owner)
        self.markets, self.vaults = [], []
        seed = [int(1_000_000 * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in self.spec.assets]
        for _ in range(count):
            market = deploy_local_market(project, self.owner, self.spec)
            vault = deploy_vault(
                project, self.owner, self.spec, market.tokens, market.feeds, [market.venue], keeper=self.keeper
            )
            for token, amount in zip(market.tokens, seed):
                token.mint(self.alice, amount, sender=self.owner)
                token.approve(vault, amount, sender=self.alice)
                token.mint(self.arb, 2**200, sender=self.owner)
                token.approve(market.venue, 2**256 - 1, sender=self.arb)
            vault.join(0, seed, self.alice, sender=self.alice)
            self.markets.append(market)
            self.vaults.append(vault)

    def move_price(self, v: int, asset: int, factor: float) -> None:
        """A new oracle round for ``asset`` of vault ``v``'s market, then its pools arbitraged."""
        market, d = self.markets[v], self.spec.feed_decimals
        price = int(market.feeds[asset].latestRoundData()[1]) / 10**d * factor
        market.feeds[asset].set_answer(feed_answer(price, d), sender=self.owner)
        prices = [int(f.latestRoundData()[1]) * 10 ** (18 - d) for f in market.feeds]
        arbitrage(market.venue, market.tokens, prices, [a.decimals for a in self.spec.assets], self.arb)

    def pass_time(self, seconds: int) -> None:
        self.chain.provider.make_request("evm_increaseTime", [seconds])
        self.chain.mine()

    def fleet_config(self, names: list[str]) -> dict:
        return {
            "name": "test",
            "keeper": "TEST::1",
            "lens": str(self.lens.address),
            "vaults": [
                {
                    "name": name,
                    "vault": str(vault.address),
                    "venues": [str(market.venue.address)],
                    "feeds": [str(f.address) for f in market.feeds],
                }
                for name, vault, market in zip(names, self.vaults, self.markets)
            ],
        }

    def last_rebalance(self, v: int) -> int:
        return int(self.lens.last_rebalance(self.vaults[v]))


class Miner(threading.Thread):
    """Mines an empty block every ``interval`` seconds over raw JSON-RPC, as a live chain keeps
    producing blocks (Silverback's block poller gives up after 10 s without one on a dev chain)."""

    def __init__(self, uri: str, interval: float = 1.0):
        super().__init__(daemon=True)
        self.uri, self.interval, self.halt = uri, interval, threading.Event()

    def run(self):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}).encode()
        while not self.halt.wait(self.interval):
            request = urllib.request.Request(self.uri, body, {"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except OSError:
                pass  # anvil busy or stopping: the next tick tries again


def _wait(condition, seconds: float, what: str, logs=None):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            detail = "".join(f"\n--- {p.name} ---\n{p.read_text()[-4000:]}" for p in (logs or []))
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}{detail}")
        time.sleep(0.5)


def test_redis_ledger__dead_claim_and_busy_signer__one_send_per_state(anvil, redis_url, project, chain, accounts):
    """In one process, two workers' loops on the shared Redis ledger, one vault:

    a claim left by a worker that died before sending holds the state until it expires, then one
    worker sends; the other skips; a stale second send of the same decision reverts with
    `vault: cooldown`; a keeper busy on another worker makes a loop release its claim, unsent."""
    stack = Stack(project, chain, accounts, 1)
    stack.pass_time(HOUR + 1)
    config = fleet_config_from_dict({**stack.fleet_config(["core"]), "claim_ttl": 3}, "fleet.yaml")
    redis = redis_client(redis_url)
    fleet_a = fleet_from_config(project, config, redis, worker="a")
    fleet_b = fleet_from_config(project, config, redis, worker="b")
    (loop_a,), (loop_b,) = fleet_a.loops, fleet_b.loops
    vault, keeper = stack.vaults[0], stack.keeper

    stack.move_price(0, 1, 1.8)  # WBTC +80%: past its outer band
    head = chain.blocks.head
    state = read_state(vault, loop_a._token_at, int(head.timestamp), [str(stack.markets[0].venue.address)], stack.lens)
    key = loop_a.state_key(state)
    dead = Sent(f"block {head.number}", worker="dead")
    assert fleet_a.ledger.claim(key, dead) is None  # a worker claimed this state, then died
    nonce = keeper.nonce
    held = loop_a.on_block(head)
    assert held.action == SKIP and "by dead (claimed, not settled yet)" in held.reason, held
    chain.mine()
    assert loop_b.on_block(chain.blocks.head).action == SKIP
    assert keeper.nonce == nonce

    # The keeper's send lock held elsewhere (another worker mid-send): claim, wait, release, skip.
    time.sleep(3.2)  # the dead worker's claim expires
    lock = redis.lock(f"{fleet_b.ledger.prefix}:signer:{str(keeper.address).lower()}", timeout=30)
    assert lock.acquire(blocking=False)
    fleet_b.ledger.signer_wait = 0.5
    chain.mine()
    busy = loop_b.on_block(chain.blocks.head)
    assert busy.action == SKIP and "busy" in busy.reason and "claim released" in busy.reason, busy
    assert fleet_b.ledger.lookup(key) is None and keeper.nonce == nonce
    lock.release()

    chain.mine()
    done = loop_b.on_block(chain.blocks.head)
    assert done.action == SENT and done.cost is not None, done
    record = fleet_a.ledger.lookup(key)
    assert record.status == "mined" and record.worker == "b" and record.txn_hash == done.txn_hash
    assert record.cost == int(chain.get_receipt(done.txn_hash).events.filter(vault.Rebalanced)[0].cost)
    chain.mine()
    after = loop_a.on_block(chain.blocks.head)
    assert after.action == WAIT and after.reason.startswith("cooldown"), after

    # Had a second worker sent the same decision anyway, the vault's cooldown reverts it.
    with pytest.raises(Exception, match="vault: cooldown"):
        keeper_path.send(vault, done.decision, keeper)
    journal = fleet_a.ledger.read_journal()
    assert [(e["worker"], e["action"]) for e in journal] == [
        ("a", SKIP),
        ("b", SKIP),
        ("b", SKIP),
        ("b", SENT),
        ("a", WAIT),
    ]
    assert all(e["reason"] for e in journal)


def _project_copy(project, folder: Path) -> Path:
    """The ape project the bot's processes run in: this repository's config and sources, and the
    contract types this test deployed, as a compiled manifest of its own. In the repository's
    folder they would share .build with every other ape process started there meanwhile, and
    compile again whenever one of those rewrote it."""
    project.load_contracts()  # up to date (a no-op unless a source changed since the test began)
    shutil.copytree(ROOT / "contracts", folder / "contracts", symlinks=True)
    shutil.copy(ROOT / "ape-config.yaml", folder / "ape-config.yaml")
    (folder / ".build").mkdir()
    (folder / ".build" / "__local__.json").write_text(
        project.manifest.model_dump_json(by_alias=True, exclude_none=True)
    )
    return folder


def _silverback() -> str:
    return shutil.which("silverback") or str(Path(sys.executable).with_name("silverback"))


def _rebalance_txs(chain, vaults: list, keeper: str, start: int) -> list[dict]:
    """Every transaction from ``keeper`` to a vault's ``rebalance`` since ``start``, mined or reverted."""
    by_address = {str(v.address).lower(): i for i, v in enumerate(vaults)}
    selector = "0x" + keccak(text=vaults[0].contract_type.mutable_methods["rebalance"].selector)[:4].hex()
    txs = []
    for number in range(start, chain.blocks.head.number + 1):
        block = chain.provider.make_request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            to = (tx.get("to") or "").lower()
            if to in by_address and tx["from"].lower() == keeper.lower() and tx["input"].startswith(selector):
                receipt = chain.provider.make_request("eth_getTransactionReceipt", [tx["hash"]])
                txs.append(
                    {"vault": by_address[to], "block": number, "hash": tx["hash"], "ok": receipt["status"] == "0x1"}
                )
    return txs


def test_keeper_fleet__two_workers_and_a_restart__each_due_state_served_once(
    anvil, redis_url, project, chain, accounts, tmp_path
):
    """The real thing: `silverback run bots.fleet:bot` and two `silverback worker` processes on a
    Redis broker, six vaults drifting at different times, a worker restarted in the middle."""
    names = [f"v{i}" for i in range(N_VAULTS)]
    deployed = time.monotonic()
    stack = Stack(project, chain, accounts, N_VAULTS)
    print(f"deployed {N_VAULTS} vaults in {time.monotonic() - deployed:.1f} s")
    stack.pass_time(HOUR + 1)  # every cooldown over; the test then lasts far less than one
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(yaml.safe_dump(stack.fleet_config(names)))
    start_block = chain.blocks.head.number + 1
    bot_project = _project_copy(project, tmp_path / "project")
    redis = redis_client(redis_url)
    ledger = RedisLedger(redis, "test", "test")
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": anvil.uri,  # the bot's processes connect to this anvil
        "APE_ETHEREUM_BLOCK_TIME": "1",  # the runner polls every 0.5 s (0: a busy loop)
        "PYTHONPATH": str(ROOT),
        "BALLAST_FLEET": str(fleet_file),
        "BALLAST_REDIS_URL": redis_url,
        "SILVERBACK_BOT_NAME": BOT_NAME,
        "SILVERBACK_BROKER_CLASS": "taskiq_redis:ListQueueBroker",
        # No read timeout: redis-py 8's default (5 s) would end an idle worker's BRPOP with an error.
        "SILVERBACK_BROKER_KWARGS": json.dumps({"url": redis_url, "socket_timeout": None}),
        "SILVERBACK_RESULT_BACKEND_CLASS": "taskiq_redis:RedisAsyncResultBackend",
        "SILVERBACK_RESULT_BACKEND_KWARGS": json.dumps({"redis_url": redis_url, "keep_results": False}),
    }
    network = ["--network", "ethereum:local:foundry"]
    processes: dict[str, subprocess.Popen] = {}
    logs: dict[str, Path] = {}

    def start(name: str, *command: str) -> None:
        logs[name] = tmp_path / f"{name}.log"
        with logs[name].open("w") as log:
            processes[name] = subprocess.Popen(
                [_silverback(), *command, "bots.fleet:bot", *network],
                cwd=bot_project,
                env={**env, "BALLAST_WORKER": name},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def journal() -> list[dict]:
        return ledger.read_journal()

    def seen(predicate) -> bool:
        return any(predicate(e) for e in journal())

    def served(v: int, before: int) -> bool:
        return stack.last_rebalance(v) > before

    t0 = time.monotonic()

    def progress(what: str) -> None:  # shown with -s, or on failure
        print(f"{time.monotonic() - t0:6.1f} s  {what}", flush=True)

    miner = Miner(anvil.uri)
    try:
        start("w1", "worker", "-w", "1")
        start("w2", "worker", "-w", "1")
        start("runner", "run")
        miner.start()
        all_logs = lambda: list(logs.values())  # noqa: E731
        _wait(lambda: "Startup complete" in logs["runner"].read_text(), 240, "the runner", all_logs())
        progress("runner started")
        # Both workers decide: every vault on target, each worker logs "not due" for each.
        _wait(
            lambda: {e["worker"] for e in journal() if e["action"] == WAIT} >= {"w1", "w2"},
            90,
            "decisions from both workers",
            all_logs(),
        )
        progress("both workers deciding")

        # Phase 1: v0 and v1 drift (WBTC +80%, WETH -60%): each served once.
        before = [stack.last_rebalance(v) for v in range(N_VAULTS)]
        stack.move_price(0, 1, 1.8)
        stack.move_price(1, 2, 0.4)
        _wait(lambda: served(0, before[0]) and served(1, before[1]), 90, "v0 and v1 rebalanced", all_logs())
        progress("v0, v1 served")

        # Phase 2: v2's venue is withdrawn, then it drifts: its rebalance reverts once. The venue
        # comes back, but the state is the one already sent for (no new round, no join), so every
        # later block on every worker finds it served, though a second send would now succeed.
        stack.vaults[2].set_venue(stack.markets[2].venue, False, sender=stack.owner)
        stack.move_price(2, 1, 1.8)
        _wait(
            lambda: seen(lambda e: e["vault"] == "v2" and e["action"] == "failed"), 90, "v2's failed send", all_logs()
        )
        stack.vaults[2].set_venue(stack.markets[2].venue, True, sender=stack.owner)
        failed_state = next(e["state"] for e in journal() if e["vault"] == "v2" and e["action"] == "failed")
        progress("v2 failed once")

        def skipped_by(worker: str) -> bool:
            return seen(
                lambda e: (
                    e["vault"] == "v2" and e["worker"] == worker and e["state"] == failed_state and e["action"] == SKIP
                )
            )

        _wait(lambda: skipped_by("w1") or skipped_by("w2"), 90, "a skip of v2's failed state", all_logs())

        # The restart: w1 is killed (no goodbye), a fresh worker takes its place; it must find v2's
        # state already served in Redis, not in its (empty) memory.
        processes["w1"].kill()
        processes["w1"].wait()
        start("w1-restarted", "worker", "-w", "1")
        _wait(lambda: skipped_by("w1-restarted"), 240, "the restarted worker's skip of v2", all_logs())
        progress("restarted worker skips v2")

        # Phase 3: v3, then v4, drift (WETH x2.5, WBTC -60%).
        stack.move_price(3, 2, 2.5)
        _wait(lambda: served(3, before[3]), 90, "v3 rebalanced", all_logs())
        progress("v3 served")
        stack.move_price(4, 1, 0.4)
        _wait(lambda: served(4, before[4]), 90, "v4 rebalanced", all_logs())
        progress("v4 served")

        # Phase 4: a new oracle round for v2 (same price): a new state, served once.
        stack.move_price(2, 1, 1.0)
        _wait(lambda: served(2, before[2]), 90, "v2 rebalanced on its new state", all_logs())
        progress("v2 served on its new state")
        # A few more blocks on both workers: nothing more goes out.
        mark = len(journal())
        _wait(
            lambda: {e["worker"] for e in journal()[mark:] if e["vault"] == "v4"} >= {"w2", "w1-restarted"},
            90,
            "both workers deciding after the last rebalance",
            all_logs(),
        )
    finally:
        miner.halt.set()
        if "runner" in processes:
            _stop(processes["runner"], 30)  # first: its shutdown asks a worker for a last snapshot
        for process in processes.values():
            _stop(process)

    text = {name: path.read_text() for name, path in logs.items()}
    entries = journal()
    vault_addresses = [str(v.address).lower() for v in stack.vaults]

    # On chain: every rebalance transaction the keeper sent, mined or reverted.
    txs = _rebalance_txs(chain, stack.vaults, str(stack.keeper.address), start_block)
    topic = "0x" + keccak(text=stack.vaults[0].Rebalanced.abi.selector).hex()
    rebalanced = Counter()
    for v, vault in enumerate(stack.vaults):
        logs = chain.provider.make_request(
            "eth_getLogs",
            [{"fromBlock": hex(start_block), "toBlock": "latest", "address": str(vault.address), "topics": [topic]}],
        )
        rebalanced[v] = len(logs)
    assert dict(rebalanced) == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 0}, (rebalanced, txs)
    assert Counter(t["vault"] for t in txs if t["ok"]) == Counter({0: 1, 1: 1, 2: 1, 3: 1, 4: 1})
    reverted = [t for t in txs if not t["ok"]]
    assert [t["vault"] for t in reverted] == [2], txs  # v2's withdrawn venue; no duplicate ever reverted

    # Once per state, on chain: no two rebalance transactions from the same state, read at the
    # block before each (each transaction has its own block: anvil mines one per transaction).
    states = defaultdict(list)
    for t in txs:
        vault, market = stack.vaults[t["vault"]], stack.markets[t["vault"]]
        at = t["block"] - 1
        state = (
            t["vault"],
            int(stack.lens.last_rebalance(vault, block_id=at)),
            tuple(int(tok.balanceOf(vault, block_id=at)) for tok in market.tokens),
            tuple(tuple(int(x) for x in f.proxy.latestRoundData(block_id=at))[:2] for f in market.feeds),
        )
        states[state].append(t["hash"])
    assert all(len(hashes) == 1 for hashes in states.values()), states
    assert len(states) == len(txs) == 6

    # The journal explains every decision, and every transaction has exactly one "sent"/"failed"
    # entry, by the worker that claimed it.
    assert entries and all(e["reason"] and e["action"] in {"wait", "skip", "sent", "failed"} for e in entries), [
        e for e in entries if e["action"] not in {"wait", "skip", "sent", "failed"}
    ]
    assert {e["worker"] for e in entries} == {"w1", "w2", "w1-restarted"}
    sends = [e for e in entries if e["action"] in ("sent", "failed")]
    assert sorted(e["txn_hash"] for e in sends) == sorted(t["hash"] for t in txs)
    assert all(e["address"] in vault_addresses for e in sends)
    for e in sends:
        log = text[e["worker"]]
        assert f"{e['worker']} {e['vault']} {e['trigger']}: claimed this state as {e['worker']}" in log
        assert e["txn_hash"] in log
        if e["action"] == "sent":
            assert e["cost"] is not None and "Rebalanced (" in e["reason"]
    states_sent = [(e["vault"], e["state"]) for e in sends]
    assert len(states_sent) == len(set(states_sent))
    # v2's failed state: skipped by the other worker and by the restarted one, never sent twice.
    skips = [e for e in entries if e["vault"] == "v2" and e["state"] == failed_state and e["action"] == SKIP]
    assert {e["worker"] for e in skips} >= {"w1-restarted"}
    assert all(
        "already sent a rebalance for this state" in e["reason"] or "claimed first" in e["reason"] for e in skips
    )
    # v5 never drifted: it only ever waited, "not due".
    v5 = [e for e in entries if e["vault"] == "v5"]
    assert v5 and all(e["action"] == WAIT and e["reason"].startswith("not due") for e in v5)
    # Served vaults wait out their cooldown afterwards, and each worker's log shows its decisions.
    assert any(e["vault"] == "v0" and e["reason"].startswith("cooldown") for e in entries)
    for worker in ("w1", "w2", "w1-restarted"):
        assert f"{worker} v5 block" in text[worker] and ": wait (not due" in text[worker]


def test_fleet_config__bad_entries__refused_with_one_line_naming_each(tmp_path):
    """The fleet file is checked before any worker starts: each problem names its entry."""
    vault, venue, lens = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
    good = {"name": "f", "lens": lens, "vaults": [{"name": "a", "vault": vault, "venues": [venue]}]}
    config = fleet_config_from_dict(good, "fleet.yaml")
    assert config.name == "f" and [e.name for e in config.vaults] == ["a"]
    assert config.vaults[0].env["BALLAST_LENS"] == lens  # the top-level default
    cases = {
        "vaults: must be a non-empty list": {**good, "vaults": []},
        "unknown key(s) keepr": {**good, "keepr": "x"},
        "vaults[0]: venues: required": {**good, "vaults": [{"vault": vault}]},
        "vaults[0].vault: must be a quoted string": {**good, "vaults": [{"vault": int(vault, 16), "venues": [venue]}]},
        "vaults[1]: name: duplicate 'a'": {**good, "vaults": good["vaults"] * 2},
        "vaults[1]: vault: 0x1111111111111111111111111111111111111111 is listed twice": {
            **good,
            "vaults": [good["vaults"][0], {**good["vaults"][0], "name": "b"}],
        },
    }
    for message, data in cases.items():
        with pytest.raises(ValueError) as err:
            fleet_config_from_dict(data, "fleet.yaml")
        assert message in str(err.value) and str(err.value).startswith("fleet.yaml: "), (message, str(err.value))
    record = tmp_path / "v1" / "local.json"
    record.parent.mkdir()
    record.write_text(json.dumps({"local": {"vault": vault, "lens": lens, "venues": [venue], "feeds": []}}))
    written = config_from_records([str(record)], "f", "TEST::1")
    assert written["keeper"] == "TEST::1" and written["vaults"][0]["name"] == "v1"
