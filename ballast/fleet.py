"""A keeper fleet: many vaults, several Silverback workers, one Redis that says who sent what.

``bots/fleet.py`` runs it: ``silverback run`` watches the chain and queues one task per block
(and per cron tick) on a Redis broker (``taskiq_redis.ListQueueBroker``); each ``silverback
worker`` process takes tasks off the queue and runs :meth:`Fleet.on_block` over every vault of
the configuration (:func:`load_fleet_config`), one :class:`ballast.bot.KeeperLoop` per vault.
Consecutive blocks land on different workers, so two workers can look at the same vault in the
same state at the same time: "sent once per state" cannot live in one process's memory.
Silverback's ``bot.state`` does not help either: in 0.7.38 it is an in-process dict
(``SharedState``, "not networked in any way, nor multi-process safe"), and a restart restores only
its ``system:`` keys from the runner's snapshot. It lives in Redis, in :class:`RedisLedger`.

**The state.** A rebalance is sent at most once per *state*, the key
:meth:`ballast.bot.KeeperLoop.state_key` reads at the decision's block: the vault's address, its
``last_rebalance`` timestamp (each successful rebalance moves it), its tracked balance of every
asset, every asset's oracle price as the vault reads it, and, with feeds configured, each feed's
``(roundId, updatedAt)``. That is what the trigger reads, minus the clock. In Redis it is
``ballast:fleet:<fleet>:state:<vault>:<last_rebalance>:<sha256 of the rest, 24 hex>``.

**The claim.** Before sending, a worker claims the state with ``SET key record NX EX claim_ttl``:
one worker wins, every other worker (and every later block, and a restarted worker) finds the
record and skips, saying who holds it. After the send the winner overwrites the record with the
outcome (``mined`` with the transaction hash and realised cost, or ``failed`` with the revert
reason), kept ``served_ttl`` seconds. A failed send is not retried for the same state: the next
attempt waits for a new state (a new oracle round, a join or exit, a price move).

**A worker that dies between claim and outcome.** Its claim expires after ``claim_ttl``. If it
never sent, another worker claims the state and serves it then. If its rebalance was mined, the
state has changed (``last_rebalance`` moved), so no one claims the old one. If its transaction is
still pending when the claim expires (``claim_ttl`` is longer than ape's receipt wait, so only
on a chain that drops or delays it that long), a second rebalance may go out; whichever is mined
second reverts with ``vault: cooldown`` (or ``vault: rebalance not due`` when the cooldown is 0
and the first one fixed the drift), costing its gas and nothing else.

**One keeper account, several workers.** Sends from one account are serialised through a Redis
lock per account (:meth:`RedisLedger.signer`), held until the receipt, so two workers never race
for the same nonce.

**The journal.** Every decision of every worker is logged by its process (``w1 core-4 block
123: wait (not due: ...)``) and pushed to ``ballast:fleet:<fleet>:journal`` (newest first, the
last ``journal_max``) as JSON: worker, vault, trigger, action, reason, state, transaction, cost.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ballast.bot import ERROR, FAILED, SENT, SKIP, KeeperLoop, Outcome, Sent, SignerBusy, StateKey, loop_from_env
from ballast.checks import InputError, require_address, require_file, require_int

#: Keys of one vault's entry, and the variable of :func:`ballast.bot.loop_from_env` each one sets.
VAULT_KEYS = {
    "vault": "BALLAST_VAULT",
    "venues": "BALLAST_VENUES",
    "feeds": "BALLAST_FEEDS",
    "lens": "BALLAST_LENS",
    "keeper": "BALLAST_KEEPER",
    "slippage_bps": "BALLAST_SLIPPAGE_BPS",
    "min_trade_usd": "BALLAST_MIN_TRADE_USD",
    "observe": "BALLAST_OBSERVE",
    "auction": "BALLAST_AUCTION",
}
#: Top-level keys; ``keeper``, ``lens``, ``slippage_bps``, ``min_trade_usd`` and ``observe`` are
#: defaults for every vault.
FLEET_KEYS = {
    "name",
    "redis",
    "claim_ttl",
    "served_ttl",
    "vaults",
    "keeper",
    "lens",
    "slippage_bps",
    "min_trade_usd",
    "observe",
}
DEFAULT_CLAIM_TTL = 300  # seconds: longer than ape's wait for a receipt
DEFAULT_SERVED_TTL = 7 * 86_400


@dataclass
class VaultEntry:
    """One vault of the fleet: its name in logs and the variables its loop is built from."""

    name: str
    env: dict[str, str]


@dataclass
class FleetConfig:
    """A fleet configuration file, checked (:func:`load_fleet_config`)."""

    name: str
    redis_url: str | None
    vaults: list[VaultEntry]
    claim_ttl: int = DEFAULT_CLAIM_TTL
    served_ttl: int = DEFAULT_SERVED_TTL
    source: str = ""


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _addresses(value, what: str) -> str:
    items = value if isinstance(value, list) else [part for part in str(value).split(",") if part.strip()]
    return ",".join(
        require_address(item.strip() if isinstance(item, str) else item, f"{what}[{i}]") for i, item in enumerate(items)
    )


def fleet_config_from_dict(data, where: str = "fleet") -> FleetConfig:
    """A :class:`FleetConfig` from parsed YAML; every problem raises :class:`InputError` naming
    the entry (``fleet.yaml: vaults[2].venues[0]: ...``)."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: must be a mapping with a `vaults:` list, got {type(data).__name__}")
    unknown = sorted(set(data) - FLEET_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(FLEET_KEYS))}")
    name = str(data.get("name") or "ballast").strip()
    if not name.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"{where}: name: letters, digits, - and _ only (it is part of Redis keys), got {name!r}")
    vaults = data.get("vaults")
    if not isinstance(vaults, list) or not vaults:
        raise InputError(f"{where}: vaults: must be a non-empty list of vaults, got {vaults!r}")
    defaults = {k: data[k] for k in VAULT_KEYS if k in data and k not in ("vault", "venues", "feeds")}
    entries: list[VaultEntry] = []
    for i, raw in enumerate(vaults):
        at = f"{where}: vaults[{i}]"
        if not isinstance(raw, dict):
            raise InputError(f"{at}: must be a mapping (vault:, venues:, ...), got {raw!r}")
        unknown = sorted(set(raw) - set(VAULT_KEYS) - {"name"})
        if unknown:
            raise InputError(f"{at}: unknown key(s) {', '.join(unknown)}; known: name, {', '.join(VAULT_KEYS)}")
        merged = {**defaults, **raw}
        for required in ("vault", "venues", "lens"):
            if merged.get(required) in (None, "", []):
                raise InputError(f"{at}: {required}: required (or a top-level default for lens)")
        env = {}
        for key, variable in VAULT_KEYS.items():
            if merged.get(key) is None:
                continue
            if key in ("vault", "lens", "auction"):
                env[variable] = require_address(merged[key], f"{at}.{key}")
            elif key in ("venues", "feeds"):
                env[variable] = _addresses(merged[key], f"{at}.{key}")
            else:
                env[variable] = _text(merged[key])
        label = str(raw.get("name") or f"vault-{i}").strip()
        if any(label == e.name for e in entries):
            raise InputError(f"{at}: name: duplicate {label!r}")
        if any(env["BALLAST_VAULT"] == e.env["BALLAST_VAULT"] for e in entries):
            raise InputError(f"{at}: vault: {env['BALLAST_VAULT']} is listed twice")
        entries.append(VaultEntry(label, env))
    claim_ttl = require_int(data.get("claim_ttl", DEFAULT_CLAIM_TTL), f"{where}: claim_ttl", 1)
    served_ttl = require_int(data.get("served_ttl", DEFAULT_SERVED_TTL), f"{where}: served_ttl", claim_ttl)
    redis_url = str(data["redis"]).strip() if data.get("redis") else None
    return FleetConfig(name, redis_url, entries, claim_ttl, served_ttl, where)


def load_fleet_config(path: str | Path) -> FleetConfig:
    """Read and check a fleet configuration (YAML)::

    name: demo                 # part of every Redis key: one fleet, one name
    keeper: keeper             # ape alias (or TEST::n); default for every vault
    lens: "0x..."              # a VaultLens; default for every vault
    claim_ttl: 300             # seconds a claim outlives a worker that died before settling it
    vaults:
      - name: core-4
        vault: "0x..."
        venues: ["0x...", "0x..."]
        feeds: ["0x...", ...]  # optional, basket order
        slippage_bps: 50       # optional, as min_trade_usd, observe, keeper and lens
    """
    where = str(path)
    text = require_file(path, "BALLAST_FLEET").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InputError(f"{where}: not valid YAML: {err}") from None
    return fleet_config_from_dict(data, where)


# ---------------------------------------------------------------- the shared ledger


def state_digest(key: StateKey) -> str:
    """A stable digest of a state key (its repr is the same in every process)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:24]


# Delete a key only if it still holds this claim (another worker may hold it after expiry).
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


class RedisLedger:
    """ "Sent once per state", shared by every worker and surviving their restarts.

    ``redis`` is a ``redis.Redis`` client (``decode_responses=True``). See the module docstring
    for the keys, the claim and what a dead worker leaves behind.
    """

    def __init__(
        self,
        redis,
        fleet: str,
        worker: str,
        claim_ttl: int = DEFAULT_CLAIM_TTL,
        served_ttl: int = DEFAULT_SERVED_TTL,
        signer_wait: float = 120.0,
        journal_max: int = 100_000,
        logger=None,
    ):
        self.redis, self.fleet, self.worker = redis, fleet, worker
        self.claim_ttl, self.served_ttl = claim_ttl, served_ttl
        self.signer_wait, self.journal_max = signer_wait, journal_max
        self.logger = logger
        self.prefix = f"ballast:fleet:{fleet}"
        self._release = redis.register_script(_RELEASE)

    def key(self, key: StateKey) -> str:
        """``ballast:fleet:<fleet>:state:<vault>:<last_rebalance>:<digest>``."""
        return f"{self.prefix}:state:{key[0]}:{key[1]}:{state_digest(key)}"

    def lookup(self, key: StateKey) -> Sent | None:
        raw = self.redis.get(self.key(key))
        return Sent.from_json(raw) if raw else None

    def claim(self, key: StateKey, record: Sent) -> Sent | None:
        """Atomically claim ``key`` for ``record`` (``None``), or the record already holding it."""
        name = self.key(key)
        if self.redis.set(name, record.to_json(), nx=True, ex=self.claim_ttl):
            return None
        raw = self.redis.get(name)
        # The holder's claim expired between the two calls: still not ours; the next block decides.
        return Sent.from_json(raw) if raw else Sent("an expired claim", worker="unknown")

    def settle(self, key: StateKey, record: Sent) -> None:
        """Replace the claim by its outcome, kept ``served_ttl`` seconds."""
        old = self.redis.set(self.key(key), record.to_json(), ex=self.served_ttl, get=True)
        held = Sent.from_json(old) if old else None
        if (held is None or held.claim_id != record.claim_id) and self.logger is not None:
            # Our claim expired before the outcome (a send slower than claim_ttl): say so.
            self.logger.warning(
                f"{self.worker}: the claim on {self.key(key)} had expired before its outcome "
                f"({'gone' if held is None else 'held ' + held.describe()}); outcome recorded anyway"
            )

    def release(self, key: StateKey, record: Sent) -> None:
        """Give a claim back unsent (only if it is still ours)."""
        self._release(keys=[self.key(key)], args=[record.to_json()])

    @contextmanager
    def signer(self, address: str) -> Iterator[None]:
        """Hold the keeper account's send lock (one transaction in flight per account, fleet-wide)."""
        lock = self.redis.lock(
            f"{self.prefix}:signer:{address.lower()}", timeout=self.claim_ttl, blocking_timeout=self.signer_wait
        )
        if not lock.acquire():
            raise SignerBusy(f"keeper {address} busy for over {self.signer_wait:g} s (another worker is sending)")
        try:
            yield
        finally:
            try:
                lock.release()
            except Exception:  # expired meanwhile: someone else may hold it now, nothing to undo
                pass

    def journal(self, label: str, outcome: Outcome) -> None:
        """Push the decision, with its reason, to the fleet's journal."""
        entry = {
            "time": round(time.time(), 3),
            "worker": self.worker,
            "vault": label.split(" ", 1)[-1],
            "address": outcome.key[0] if outcome.key else None,
            "trigger": outcome.trigger,
            "action": outcome.action,
            "reason": outcome.reason,
            "state": state_digest(outcome.key) if outcome.key else None,
            "last_rebalance": outcome.key[1] if outcome.key else None,
            "txn_hash": outcome.txn_hash,
            "cost": outcome.cost,
        }
        pipe = self.redis.pipeline()
        pipe.lpush(f"{self.prefix}:journal", json.dumps(entry, separators=(",", ":")))
        pipe.ltrim(f"{self.prefix}:journal", 0, self.journal_max - 1)
        pipe.execute()

    def read_journal(self, count: int = -1) -> list[dict]:
        """The journal, oldest first (the last ``count`` entries, or all)."""
        raw = self.redis.lrange(f"{self.prefix}:journal", 0, count)
        return [json.loads(r) for r in reversed(raw)]


# ---------------------------------------------------------------- the fleet


@dataclass
class Fleet:
    """Every vault's loop, sharing one ledger; what a worker runs on each block and tick."""

    loops: list[KeeperLoop]
    ledger: Any
    worker: str
    config: FleetConfig | None = None
    totals: dict[str, int] = field(default_factory=dict)

    def on_block(self, block) -> list[Outcome]:
        """Decide for every vault at ``block`` (a read error on one vault stops only that one)."""
        return self._count([loop.on_block(block) for loop in self.loops])

    def on_tick(self, now=None) -> list[Outcome]:
        """A clock tick for every vault (calendar triggers, volatility observations)."""
        return self._count([loop.on_tick(now) for loop in self.loops])

    def _count(self, outcomes: list[Outcome]) -> list[Outcome]:
        for o in outcomes:
            self.totals[o.action] = self.totals.get(o.action, 0) + 1
        return outcomes


def fleet_metrics(outcomes: list[Outcome]) -> dict[str, int]:
    """Scalar metrics of one block or tick, for Silverback's recorder."""
    return {
        "vaults": len(outcomes),
        "rebalance_sent": sum(o.action == SENT for o in outcomes),
        "rebalance_failed": sum(o.action == FAILED for o in outcomes),
        "skipped": sum(o.action == SKIP for o in outcomes),
        "read_error": sum(o.action == ERROR for o in outcomes),
    }


def worker_name(env: Mapping[str, str]) -> str:
    """``BALLAST_WORKER``, or ``<host>:<pid>`` (a restarted worker has a new name)."""
    return (env.get("BALLAST_WORKER") or "").strip() or f"{socket.gethostname()}:{os.getpid()}"


def _where(message: str, entry: VaultEntry, source: str) -> str:
    """loop_from_env's messages name BALLAST_* variables; name the configuration's keys instead."""
    for key, variable in VAULT_KEYS.items():
        message = message.replace(variable, f"{source}: {entry.name}.{key}")
    return message


def fleet_from_config(project, config: FleetConfig, redis, signer=None, logger=None, worker: str = "") -> Fleet:
    """One :class:`KeeperLoop` per vault of ``config``, all on one :class:`RedisLedger`.

    Every vault is checked (code, roles, venues, lens) before the fleet exists: a bad entry
    raises :class:`InputError` naming it, before any transaction.
    """
    worker = worker or worker_name(os.environ)
    ledger = RedisLedger(redis, config.name, worker, config.claim_ttl, config.served_ttl, logger=logger)
    loops = []
    for entry in config.vaults:
        try:
            loop = loop_from_env(
                project,
                entry.env,
                signer=signer,
                logger=logger,
                ledger=ledger,
                label=f"{worker} {entry.name}",
                worker=worker,
            )
        except InputError as err:
            raise InputError(_where(str(err), entry, config.source)) from None
        loops.append(loop)
    return Fleet(loops, ledger, worker, config)


def redis_client(url: str):
    """A Redis client for ``url`` (``redis://host:port/db``), checked with a PING."""
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, health_check_interval=30)
    try:
        client.ping()
    except Exception as err:
        raise InputError(f"BALLAST_REDIS_URL: cannot reach Redis at {url}: {err}") from None
    return client


def fleet_from_env(project, env: Mapping[str, str], signer=None, logger=None) -> Fleet:
    """What ``bots/fleet.py`` does: ``BALLAST_FLEET`` (the configuration file),
    ``BALLAST_REDIS_URL`` (default: the file's ``redis:``), ``BALLAST_WORKER`` (optional name)."""
    path = (env.get("BALLAST_FLEET") or "").strip()
    if not path:
        raise InputError("BALLAST_FLEET is not set: the fleet configuration file (YAML, see ballast/fleet.py)")
    config = load_fleet_config(path)
    url = (env.get("BALLAST_REDIS_URL") or "").strip() or config.redis_url
    if not url:
        raise InputError(f"BALLAST_REDIS_URL is not set, and {path} has no `redis:`: the fleet's Redis")
    return fleet_from_config(project, config, redis_client(url), signer=signer, logger=logger, worker=worker_name(env))


# ---------------------------------------------------------------- command line


def config_from_records(paths: list[str], name: str = "ballast", keeper: str | None = None) -> dict:
    """A fleet configuration (as a dict, to dump as YAML) covering every vault of ``paths``:
    the deployment records ``ape run deploy`` and ``make node`` write (``<network>.json``,
    one vault per network per file)."""
    vaults = []
    for path in paths:
        book = json.loads(Path(path).read_text())
        for network, entry in book.items():
            stem = Path(path).parent.name if Path(path).parent.name != "deployments" else Path(path).stem
            vaults.append(
                {
                    "name": f"{stem}-{network}" if len(book) > 1 else stem,
                    "vault": entry["vault"],
                    "lens": entry["lens"],
                    "venues": entry["venues"],
                    "feeds": entry["feeds"],
                }
            )
    data: dict = {"name": name}
    if keeper:
        data["keeper"] = keeper
    data["vaults"] = vaults
    fleet_config_from_dict(data, "the records")  # the same checks as at start-up
    return data


def main(argv: list[str] | None = None) -> int:
    """``python -m ballast.fleet config RECORD... [--keeper ALIAS] [--name NAME]``: print a fleet
    file for the recorded vaults; ``python -m ballast.fleet journal --redis URL [--name NAME]
    [-n 50]``: print the fleet's last decisions, oldest first."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ballast.fleet", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="a fleet file (YAML) for deployment records")
    config.add_argument("records", nargs="+", help="deployment records (deployments/<network>.json)")
    config.add_argument("--name", default="ballast", help="the fleet's name (Redis keys)")
    config.add_argument("--keeper", default=None, help="the keeper's ape alias (or TEST::n)")
    journal = commands.add_parser("journal", help="the fleet's last decisions")
    journal.add_argument("--redis", default=os.environ.get("BALLAST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    journal.add_argument("--name", default="ballast", help="the fleet's name")
    journal.add_argument("-n", type=int, default=50, help="how many (newest)")
    args = parser.parse_args(argv)
    try:
        if args.command == "config":
            print(yaml.safe_dump(config_from_records(args.records, args.name, args.keeper), sort_keys=False), end="")
            return 0
        ledger = RedisLedger(redis_client(args.redis), args.name, "reader")
        for e in ledger.read_journal(max(args.n, 1) - 1):
            tx = f" [{e['txn_hash']}]" if e.get("txn_hash") else ""
            print(f"{e['worker']} {e['vault']} {e['trigger']}: {e['action']} ({e['reason']}){tx}")
        return 0
    except (InputError, OSError, KeyError, json.JSONDecodeError) as err:
        print(f"python -m ballast.fleet: {err}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
