"""Shared builder of the deposit-queue and entry-point tests: the default basket (USDC/WBTC/WETH/LINK,
6/8/18/18 decimals, 40/30/20/10, 30 bps entry haircut: the demo basket of specs/demo.yaml and of
issue #13's lag table) priced by Chainlink's own feeds (EACAggregatorProxy over MockV3Aggregator),
whose ``getRoundData`` the queue reads, with a ``DepositQueue`` and an ``AssetEntry`` per asset."""

from __future__ import annotations

from ballast.chain import chainlink
from ballast.chain.deploy import deploy_factory, deploy_vault, feed_answer, spec_from_dict
from ballast.constants import ROLE_GUARDIAN

FEED_DECIMALS = 8
PRICES = (1.0, 60_000.0, 3_000.0, 15.0)
DECIMALS = (6, 8, 18, 18)
WEIGHTS = (4_000, 3_000, 2_000, 1_000)
HAIRCUT_BPS = 30
MIN_DELAY = 600  # seconds: the queue's delay before a round may price a request
SETTLE_WINDOW = 900  # seconds after a request became ready during which it may be settled
MAX_AGE = 3_600  # seconds: the entry's freshness bound for the instant path
USDC, WBTC, WETH, LINK = range(4)


def spec(token_decimals=DECIMALS):
    return spec_from_dict(
        {
            "name": "Ballast Entry",
            "symbol": "BENT",
            "entry_haircut_bps": HAIRCUT_BPS,
            "trigger": {"type": "threshold", "interval": 86_400},
            "limits": {
                "max_slippage_bps": 150,
                "max_cost_bps": 100,
                "turnover_cap_bps": 10_000,
                "turnover_period": 86_400,
                "cooldown": 3_600,
            },
            "assets": [
                {
                    "symbol": s,
                    "decimals": d,
                    "price": p,
                    "target_bps": w,
                    "band_bps": 300,
                    "outer_band_bps": 900,
                }
                for s, d, p, w in zip(("USDC", "WBTC", "WETH", "LINK"), token_decimals, PRICES, WEIGHTS)
            ],
        }
    )


class EntryStack:
    """A vault over Chainlink feeds with one queue and one entry per asset."""

    def __init__(self, project, chain, owner, tokens, feeds, vault, queues, entries, lens):
        self.project, self.chain, self.owner = project, chain, owner
        self.tokens, self.feeds, self.vault = tokens, feeds, vault
        self.queues, self.entries, self.lens = queues, entries, lens
        self.prices = list(PRICES)

    def units(self, i, usd):
        """Base units of asset ``i`` worth ``usd`` at its current price."""
        return int(usd / self.prices[i] * 10 ** DECIMALS[i])

    def fund(self, account, i, amount, spender):
        self.tokens[i].mint(account, amount, sender=self.owner)
        self.tokens[i].approve(spender, amount, sender=account)

    def seed(self, account, usd_total=1_000_000):
        amounts = [self.units(i, usd_total * WEIGHTS[i] / 10_000) for i in range(4)]
        for i, amount in enumerate(amounts):
            self.fund(account, i, amount, self.vault)
        self.vault.join(0, amounts, account, sender=account)
        return amounts

    def publish(self, i, price=None):
        """A new round of feed ``i`` now (at ``price``, else its current one)."""
        if price is not None:
            self.prices[i] = price
        self.feeds[i].set_answer(feed_answer(self.prices[i], FEED_DECIMALS), sender=self.owner)

    def publish_all(self):
        for i in range(4):
            self.publish(i)

    def wait(self, seconds):
        self.chain.pending_timestamp += seconds
        self.chain.mine()

    def rounds(self):
        """Every feed's latest round id (the first ones after a delay when each ticked once since)."""
        return [int(f.proxy.latestRoundData()[0]) for f in self.feeds]

    def value(self, amounts, prices=None):
        """USD value of ``amounts`` (base units, vault order) at ``prices`` (default: current)."""
        prices = prices or self.prices
        return sum(a * p / 10 ** DECIMALS[i] for i, (a, p) in enumerate(zip(amounts, prices)))


def build(project, chain, owner, keeper, guardian, lens, token_kinds=None, min_delay=MIN_DELAY, window=SETTLE_WINDOW):
    """Deploy the stack; ``token_kinds`` optionally replaces an asset's token contract, e.g.
    ``{0: project.BlocklistToken}`` (same constructor as MockERC20)."""
    token_kinds = token_kinds or {}
    the_spec = spec()
    tokens, feeds = [], []
    for i, asset in enumerate(the_spec.assets):
        kind = token_kinds.get(i, project.MockERC20)
        tokens.append(kind.deploy(asset.symbol, asset.symbol, asset.decimals, sender=owner))
        feeds.append(chainlink.deploy_feed(owner, FEED_DECIMALS, feed_answer(asset.price, FEED_DECIMALS)))
    # A factory of its own: the process-wide one may have been rolled back by test isolation and
    # its address reused by another contract.
    factory = deploy_factory(project, owner)
    vault = deploy_vault(project, owner, the_spec, tokens, feeds, [], keeper=keeper, factory=factory)
    vault.set_role(guardian, ROLE_GUARDIAN, sender=owner)
    queues, entries = [], []
    for token in tokens:
        queue = project.DepositQueue.deploy(vault, token, min_delay, window, sender=owner)
        entry = project.AssetEntry.deploy(queue, lens, MAX_AGE, sender=owner)
        vault.set_entry(token, entry, sender=owner)
        queues.append(queue)
        entries.append(entry)
    return EntryStack(project, chain, owner, tokens, feeds, vault, queues, entries, lens)
