"""The Ballast keeper as a Silverback bot: decide on every block and every 5 minutes, send at most once per state.

All the logic is :class:`ballast.bot.KeeperLoop` (tested on anvil without Silverback); this file
only wires it to Silverback's handlers. Configuration, from the environment:

* ``BALLAST_VAULT``: the vault's address; ``BALLAST_VENUES``: the venues, comma-separated;
* ``BALLAST_KEEPER``: the keeper account's ape alias (or ``TEST::n``); default Silverback's
  ``--account``; with neither, a dry run that logs each decision and sends nothing;
* optional: ``BALLAST_FEEDS`` (feeds in basket order), ``BALLAST_SLIPPAGE_BPS``,
  ``BALLAST_MIN_TRADE_USD``, ``BALLAST_OBSERVE=1``.

Run it from the repository root (the ape project holds the contract types)::

    BALLAST_VAULT=0x... BALLAST_VENUES=0x... BALLAST_KEEPER=keeper \\
        silverback run bots.keeper:bot --network ethereum:local:foundry
"""

import os
from datetime import datetime

from ape import chain, project
from ape.logging import logger
from silverback import SilverbackBot

from ballast.bot import loop_from_env, metrics
from ballast.checks import InputError

bot = SilverbackBot()
try:  # a bad variable stops the bot here, with one line, before any transaction
    loop = loop_from_env(project, os.environ, signer=bot.signer, logger=logger)
except InputError as err:
    raise SystemExit(f"Ballast keeper: {err}") from None
logger.info(
    f"Ballast keeper for vault {loop.vault.address} on {len(loop.venues)} venue(s), "
    f"keeper {loop.keeper.address if loop.keeper else 'none (dry run)'}"
)


@bot.on_(chain.blocks)
def on_block(block):
    """Every new block: decide, and rebalance when due (once per state)."""
    return metrics(loop.on_block(block), loop)


@bot.cron("*/5 * * * *")
def on_tick(time: datetime):
    """Every 5 minutes, blocks or not: the calendar trigger and the volatility observations."""
    return metrics(loop.on_tick(time), loop)
