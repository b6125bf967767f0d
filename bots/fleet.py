"""The Ballast keeper fleet as a Silverback bot: many vaults, several workers, one Redis.

All the logic is :mod:`ballast.fleet` (a :class:`ballast.bot.KeeperLoop` per vault, sharing a
:class:`ballast.fleet.RedisLedger`); this file wires it to Silverback's handlers. Configuration:

* ``BALLAST_FLEET``: the fleet file (YAML: the vaults, their venues, feeds and lens, the keeper);
* ``BALLAST_REDIS_URL``: the Redis holding the claims and the journal (default: the file's
  ``redis:``); use the broker's Redis;
* ``BALLAST_WORKER``: this worker's name in logs and claims (default ``<host>:<pid>``);
* Silverback's broker on the same Redis: ``SILVERBACK_BROKER_CLASS=taskiq_redis:ListQueueBroker``,
  ``SILVERBACK_BROKER_KWARGS='{"url": "redis://...", "socket_timeout": null}'`` (redis-py 8 reads
  with a 5 s timeout by default, and taskiq-redis 1.2.3 lets the TimeoutError of an idle ``BRPOP``
  kill the worker),
  ``SILVERBACK_RESULT_BACKEND_CLASS=taskiq_redis:RedisAsyncResultBackend``,
  ``SILVERBACK_RESULT_BACKEND_KWARGS='{"redis_url": "redis://...", "keep_results": false}'``.

Then, from the repository root, one runner and as many workers as wanted (README "Keeper fleet")::

    silverback run bots.fleet:bot --network ethereum:local:foundry        # queues blocks, ticks
    silverback worker -w 1 bots.fleet:bot --network ethereum:local:foundry  # once per worker
"""

import os
from datetime import datetime

from ape import chain, project
from ape.logging import logger
from silverback import SilverbackBot
from silverback.main import SharedState

from ballast.checks import InputError
from ballast.fleet import fleet_from_env, fleet_metrics

bot = SilverbackBot()
# Silverback 0.7.38 creates `bot.state` only in the worker that runs its load-snapshot system
# task; in any other worker every block handler fails on `self.state` (AttributeError) before it
# reaches ours. Each worker starts with an empty one (the fleet keeps nothing there: see Redis).
if not hasattr(bot, "state"):
    bot.state = SharedState()
try:  # a bad entry stops the bot here, with one line naming it, before any transaction
    fleet = fleet_from_env(project, os.environ, signer=bot.signer, logger=logger)
except InputError as err:
    raise SystemExit(f"Ballast keeper fleet: {err}") from None
logger.info(
    f"Ballast keeper fleet {fleet.config.name!r}, worker {fleet.worker}: {len(fleet.loops)} vault(s) "
    + ", ".join(f"{e.name} {e.env['BALLAST_VAULT']}" for e in fleet.config.vaults)
)


@bot.on_(chain.blocks)
def on_block(block):
    """Every new block, on whichever worker takes it: decide for every vault, send once per state."""
    return fleet_metrics(fleet.on_block(block))


@bot.cron("*/5 * * * *")
def on_tick(time: datetime):
    """Every 5 minutes, blocks or not: the calendar triggers and the volatility observations."""
    return fleet_metrics(fleet.on_tick(time))
