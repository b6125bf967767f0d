"""Shared ape fixtures: named actors and builders that return fresh vault stacks.

Builders are session-scoped and return functions (Yearn V3 style); ape's isolation
snapshots and restores the chain around every test.
"""

from __future__ import annotations

import pytest

from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import deploy_vault, deploy_venue, feed_answer, spec_from_dict
from ballast.chain.market import arbitrage, snapshot_market
from ballast.chain.state import read_state
from ballast.constants import ROLE_GUARDIAN
from ballast.planner import plan_rebalance

FEED_DECIMALS = 8


def pytest_configure(config):
    skip_debug_log_replay()  # nothing deployed here prints console.log lines: see its docstring


FEED_DECIMAL_SCALE = 10**FEED_DECIMALS
# Field order of the vault's ``Limits`` and ``TriggerConfig`` structs (also the names of its getters).
LIMITS_FIELDS = ("max_slippage_bps", "max_cost_bps", "turnover_cap_bps", "turnover_period", "cooldown")
TRIGGER_FIELDS = ("trigger_type", "rebalance_interval", "vol_reference", "vol_alpha_bps", "vol_min_interval")


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def lens(project, owner):
    """The VaultLens every test reads a vault's views and previews through."""
    return project.VaultLens.deploy(sender=owner)


def spec_dict(decimals, prices, weights, trigger="threshold", bands=None, **overrides):
    n = len(decimals)
    bands = bands or [300] * n
    data = {
        "name": "Ballast Test",
        "symbol": "BTEST",
        "entry_haircut_bps": 30,
        "trigger": {
            "type": trigger,
            "interval": 86_400,
            "vol_reference": 0.5,
            "vol_alpha_bps": 2_000,
            "vol_min_interval": 3_600,
        },
        "limits": {
            "max_slippage_bps": 150,
            "max_cost_bps": 100,
            "turnover_cap_bps": 10_000,
            "turnover_period": 86_400,
            "cooldown": 3_600,
        },
        "assets": [
            {
                "symbol": f"T{i}",
                "decimals": decimals[i],
                "price": prices[i],
                "target_bps": weights[i],
                "band_bps": bands[i],
                "outer_band_bps": bands[i] * 3,
            }
            for i in range(n)
        ],
    }
    for key, value in overrides.items():
        if key in data["limits"]:
            data["limits"][key] = value
        elif key in data["trigger"]:
            data["trigger"][key] = value
        else:
            data[key] = value
    return data


class Stack:
    """A deployed vault with its tokens, feeds and venue, plus helpers for tests."""

    def __init__(self, project, owner, spec, tokens, feeds, venue, vault, lens):
        self.project = project
        self.lens = lens
        self.owner = owner
        self.spec = spec
        self.tokens = tokens
        self.feeds = feeds
        self.venue = venue
        self.vault = vault

    def fund(self, account, amounts):
        """Mint and approve ``amounts`` (base units) of every token for ``account``."""
        for token, amount in zip(self.tokens, amounts):
            token.mint(account, amount, sender=self.owner)
            token.approve(self.vault, amount, sender=account)

    def units(self, usd_each):
        """Base units worth ``usd_each`` USD of every asset at its spec price."""
        return [int(usd_each / a.price * 10**a.decimals) for a in self.spec.assets]

    def weighted_units(self, usd_total):
        """Base units of a deposit of ``usd_total`` USD split at target weights."""
        return [int(usd_total * a.target_bps / 10_000 / a.price * 10**a.decimals) for a in self.spec.assets]

    def seed(self, account, usd_total=1_000_000):
        """First join at target weights; returns the shares minted."""
        amounts = self.weighted_units(usd_total)
        self.fund(account, amounts)
        self.vault.join(0, amounts, account, sender=account)
        return self.vault.balanceOf(account)

    @property
    def prices(self):
        """Current oracle prices as floats, read from the feeds (chain state, so test isolation holds)."""
        return [int(feed.latest_answer()) / FEED_DECIMAL_SCALE for feed in self.feeds]

    def set_price(self, i, price):
        """Set asset ``i``'s oracle price only (the pools do not follow)."""
        self.feeds[i].set_answer(feed_answer(price, FEED_DECIMALS), sender=self.owner)

    def move_price(self, i, price, trader):
        """Set asset ``i``'s oracle price and arbitrage the pools to it."""
        self.set_price(i, price)
        for token in self.tokens:
            token.mint(trader, 2**200, sender=self.owner)
            token.approve(self.venue, 2**256 - 1, sender=trader)
        prices = [int(feed.latest_answer()) * 10 ** (18 - FEED_DECIMALS) for feed in self.feeds]
        arbitrage(self.venue, self.tokens, prices, [a.decimals for a in self.spec.assets], trader)

    def _current(self, fields, changes):
        """The vault's current values of ``fields`` (the lens's views of the same names), some changed."""
        values = {name: getattr(self.lens, name)(self.vault) for name in fields}
        values.update(changes)
        return tuple(values.values())

    def limits(self, **changes):
        """The vault's current ``Limits`` tuple, with some fields changed (for ``set_limits``)."""
        return self._current(LIMITS_FIELDS, changes)

    def trigger(self, **changes):
        """The vault's current ``TriggerConfig`` tuple, with some fields changed (for ``set_trigger``)."""
        return self._current(TRIGGER_FIELDS, changes)

    def state(self):
        timestamp = self.project.provider.get_block("latest").timestamp
        return read_state(self.vault, self.project.MockERC20.at, timestamp, None, self.lens)

    def plan(self, **kwargs):
        return plan_rebalance(self.state(), snapshot_market([self.venue], self.tokens), **kwargs)

    def rebalance_after_rally(self, depositor, keeper, arb, chain):
        """Seed $1M, rally WBTC 40 % (pools arbitraged to it), plan on this stack's venue and
        rebalance; asserts that every fill equals the plan's to the wei, that drift fell and that
        the venue holds no token. Returns the plan."""
        self.seed(depositor)
        self.move_price(1, 84_000.0, arb)
        chain.pending_timestamp += self.lens.cooldown(self.vault) + 1
        plan = self.plan()
        assert plan.trades, plan.reason
        drift_before = self.lens.max_drift(self.vault)
        tx = self.vault.rebalance([t.as_tuple() for t in plan.trades], sender=keeper)
        fills = tx.events.filter(self.vault.TradeExecuted)
        assert [(f.token_in, f.token_out, f.amount_in, f.amount_out) for f in fills] == [
            (t.token_in, t.token_out, t.amount_in, t.expected_out) for t in plan.trades
        ]
        assert self.lens.max_drift(self.vault) < drift_before
        assert all(token.balanceOf(self.venue) == 0 for token in self.tokens)
        return plan


@pytest.fixture(scope="session")
def make_stack(project, owner, keeper, guardian, lens):
    """Builder: ``make_stack(decimals=[6, 8, 18, 18], ...)`` deploys tokens, feeds, AMM and vault."""

    def build(
        decimals=(6, 8, 18, 18),
        prices=(1.0, 60_000.0, 3_000.0, 15.0),
        weights=(4_000, 3_000, 2_000, 1_000),
        trigger="threshold",
        no_return=(),
        depth_usd=50_000_000,
        fee_bps=30,
        venue_kind="amm",
        v3_band_bps=1_000,
        **overrides,
    ):
        spec = spec_from_dict(spec_dict(list(decimals), list(prices), list(weights), trigger, **overrides))
        tokens, feeds = [], []
        for i, asset in enumerate(spec.assets):
            kind = project.NoReturnToken if i in no_return else project.MockERC20
            tokens.append(kind.deploy(asset.symbol, asset.symbol, asset.decimals, sender=owner))
            feeds.append(
                project.MockPriceFeed.deploy(FEED_DECIMALS, feed_answer(asset.price, FEED_DECIMALS), sender=owner)
            )
        # amm: the double at fee_bps; uniswap_v2: the real pairs (30 bps); uniswap_v3: the real pools at
        # the fee_bps tier (half full range, half within v3_band_bps; None: all full range); balancer:
        # one real weighted pool of every asset at the target weights.
        venue = deploy_venue(
            project, owner, spec, tokens, venue_kind, fee_bps, owner, depth_usd=depth_usd, band_bps=v3_band_bps
        )
        vault = deploy_vault(project, owner, spec, tokens, feeds, [venue], keeper=keeper)
        vault.set_role(guardian, ROLE_GUARDIAN, sender=owner)
        return Stack(project, owner, spec, tokens, feeds, venue, vault, lens)

    return build


@pytest.fixture(scope="session")
def stack(make_stack):
    """The default 4-asset vault: 6/8/18/18 decimals at 40/30/20/10, threshold trigger."""
    return make_stack()


@pytest.fixture
def seeded(stack, alice):
    """The default vault with $1M joined by alice at target weights."""
    stack.seed(alice)
    return stack
