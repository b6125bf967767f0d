"""Dutch auctions of a vault's rebalance, from the outside: deploy, read, fill.

``DutchAuction`` (contracts/auction/) sells a vault's overweight assets for its underweight
ones at a price that decays from above the oracle to the oracle minus the vault's slippage
bound; any account may fill. This module is what a filler runs: it reads the open auction's
lots and their prices now (:func:`read_auction`), decides whether a lot is worth taking
against the filler's own external prices and margin (:func:`profitable_fill`) and takes it
(:func:`fill`). :func:`multiplier` mirrors the contract's curve in Python for tests and
planning. Amounts are base units; prices and USD values are WAD, as on chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from ballast.chain import skip_debug_log_replay
from ballast.chain.deploy import _address, deploy_local_market, deploy_vault, feed_answer, target_amounts
from ballast.constants import MAX_BPS, ROLE_GUARDIAN, ROLE_KEEPER, WAD
from ballast.spec import spec_from_dict

# Defaults of a deployment: start 2 % above the oracle, end 1 % below it after 30 minutes, fills
# taken for an hour, keepers alone may open for 10 minutes, lots under $1,000 are left out.
DEFAULT_PARAMS = {
    "premium_bps": 200,
    "end_discount_bps": 100,
    "length": 1_800,
    "ttl": 3_600,
    "launcher_window": 600,
    "min_lot_usd": 1_000 * WAD,
}


def constructor_args(vault, lens, **params) -> tuple:
    """``DutchAuction``'s constructor arguments, in order: :data:`DEFAULT_PARAMS` with ``params`` over them."""
    p = {**DEFAULT_PARAMS, **params}
    keys = ("premium_bps", "end_discount_bps", "length", "ttl", "launcher_window", "min_lot_usd")
    return (vault, lens, *(p[k] for k in keys))


def deploy_auction(project, owner, vault, lens, **params):
    """Deploy a ``DutchAuction`` for ``vault`` (``owner`` is the vault's owner), give it the
    keeper role and whitelist it as a venue. ``params`` override :data:`DEFAULT_PARAMS`."""
    auction = project.DutchAuction.deploy(*constructor_args(vault, lens, **params), sender=owner)
    vault.set_role(auction, ROLE_KEEPER, sender=owner)
    vault.set_venue(auction, True, sender=owner)
    return auction


def multiplier(start: int, end: int, rate: int, length: int, elapsed: int) -> float:
    """The curve in floating point: ``max(end, start * exp(-rate * elapsed))`` (WAD), ``end``
    from ``length`` on. ``rate`` is WAD per second. The contract computes the same in integers
    (snekmate's ``wad_exp``), so the two agree to about 1e-15 relative."""
    if elapsed >= length:
        return float(end)
    return max(float(end), start * math.exp(-rate * elapsed / WAD))


def decay_rate(start: int, end: int, length: int) -> float:
    """The rate (WAD per second) that takes ``start`` to ``end`` in ``length`` seconds."""
    return math.log(start / end) / length * WAD


@dataclass(frozen=True)
class LotView:
    """One lot of the open auction, priced now."""

    index: int
    sell: str
    buy: str
    sell_decimals: int
    buy_decimals: int
    sell_left: int
    # Oracle prices (WAD per whole token) at this block, and the curve's multiplier (WAD).
    sell_price: int
    buy_price: int
    multiplier: int

    def buy_for_all(self, auction) -> int:
        """``buy`` units that take the whole rest of the lot now (the contract's own rounding)."""
        return int(auction.quote(self.index, 2**200)[1]) if self.sell_left else 0


def read_auction(auction, vault, now: int) -> list[LotView]:
    """Every lot of ``auction``'s open auction with its oracle prices, and its multiplier at
    ``now`` (the timestamp the fill will have)."""
    if not auction.is_open():
        return []
    m = int(auction.multiplier(max(now, int(auction.opened_at()))))
    lots = []
    for i in range(int(auction.lot_count())):
        sell, buy, sell_decimals, buy_decimals, left = auction.lots(i)
        lots.append(LotView(i, sell, buy, sell_decimals, buy_decimals, left, vault.price(sell), vault.price(buy), m))
    return lots


def profitable_fill(lot: LotView, external_prices: dict[str, float], margin_bps: int, budget: int):
    """How much of ``lot`` a filler should buy, or ``None``.

    The filler pays in ``lot.buy`` and receives ``lot.sell``; it values both at its own
    ``external_prices`` (USD per whole token, by address). A fill is worth it when what it
    receives is worth at least ``margin_bps`` more than what it pays. ``budget`` caps the
    ``buy`` units paid. Returns ``(buy_amount, min_sell_amount)`` for :func:`fill`, the minimum
    being the expected amount less 0.1 % for a price update between quote and inclusion.
    """
    if lot.sell_left == 0 or budget <= 0:
        return None
    # Auction price in USD terms: paying 1 USD of `buy` (at the oracle) gets WAD / m USD of `sell`.
    sell_ext = external_prices[lot.sell] / (lot.sell_price / WAD)
    buy_ext = external_prices[lot.buy] / (lot.buy_price / WAD)
    edge = (WAD / lot.multiplier) * sell_ext / buy_ext  # external value received per value paid
    if edge < 1 + margin_bps / MAX_BPS:
        return None
    sell_usd = lot.sell_left * lot.sell_price // 10**lot.sell_decimals
    buy_all = (sell_usd * lot.multiplier // WAD) * 10**lot.buy_decimals // lot.buy_price + 1
    buy_amount = min(budget, buy_all)
    expected_sell = buy_amount * lot.buy_price // 10**lot.buy_decimals * WAD // lot.multiplier
    expected_sell = expected_sell * 10**lot.sell_decimals // lot.sell_price
    return buy_amount, min(expected_sell, lot.sell_left) * 999 // 1_000


def fill(auction, lot: LotView, buy_amount: int, min_sell_amount: int, filler, buy_token):
    """Approve and fill: ``filler`` pays at most ``buy_amount`` of ``lot.buy`` for ``lot.sell``.
    Returns the receipt."""
    buy_token.approve(auction, buy_amount, sender=filler)
    return auction.fill(lot.index, buy_amount, min_sell_amount, sender=filler)


def filled_events(receipt, auction) -> list[dict]:
    """The ``Filled`` events of ``receipt`` as dicts (what the demo prints)."""
    return [
        {
            "lot": int(e.lot),
            "filler": _address(e.filler),
            "sold": int(e.sold),
            "bought": int(e.bought),
            "multiplier": int(e.multiplier),
            "price_vs_oracle_bps": int(e.price_vs_oracle_bps),
        }
        for e in receipt.events.filter(auction.Filled)
    ]


# ---------------------------------------------------------------- the demo scenario

DEMO_SPEC = Path(__file__).resolve().parent.parent / "specs" / "demo.yaml"
STEP = 300  # seconds between the filler's looks at the auction
FILLER_MARGIN_BPS = 30


def demo_spec():
    """The default demo's vault (specs/demo.yaml: 40/30/20/10, Chainlink feeds) with the
    settings auctions need: the threshold trigger and no vault cooldown (fills are several
    rebalances; TECH_SPEC "Auctions"), and one local AMM (the auction needs no pool)."""
    data = yaml.safe_load(DEMO_SPEC.read_text())
    data["trigger"]["type"] = "threshold"
    data["limits"]["cooldown"] = 0
    data["market"] = {"venue": "amm", "fee_bps": 30, "depth_usd": data["market"]["depth_usd"]}
    return spec_from_dict(data, str(DEMO_SPEC))


def run_demo(project, chain, accounts, echo=print) -> dict:
    """Open an auction through the Automation upkeep after a WBTC rally, let an independent
    filler take lots whenever they beat its external price by ``FILLER_MARGIN_BPS``, close it
    through the upkeep, and print the fills and the gas of each step. Returns the figures."""
    skip_debug_log_replay()
    spec = demo_spec()
    deployer, keeper, alice, guardian, filler = accounts[0], accounts[1], accounts[2], accounts[3], accounts[6]
    market = deploy_local_market(project, deployer, spec)
    tokens, feeds = market.tokens, market.feeds
    vault = deploy_vault(project, deployer, spec, tokens, feeds, market.venues, keeper=keeper)
    vault.set_role(guardian, ROLE_GUARDIAN, sender=deployer)
    lens = project.VaultLens.deploy(sender=deployer)
    auction = deploy_auction(project, deployer, vault, lens)
    upkeep = project.RebalanceUpkeep.deploy(auction, sender=deployer)
    vault.set_role(upkeep, ROLE_KEEPER, sender=deployer)
    symbol = {str(t.address): a.symbol for t, a in zip(tokens, spec.assets)}
    p = DEFAULT_PARAMS
    echo(
        f"Vault {vault.address} ({'/'.join(str(a.target_bps // 100) for a in spec.assets)} "
        f"{', '.join(a.symbol for a in spec.assets)}), auction {auction.address}, upkeep {upkeep.address}"
    )
    echo(
        f"Curve: {p['premium_bps'] / 100:+.2f}% to {-p['end_discount_bps'] / 100:+.2f}% of the oracle over "
        f"{p['length'] // 60} min (exponential), fills for {p['ttl'] // 60} min; filler {filler.address} "
        f"(no role) takes a lot when it beats the oracle by {FILLER_MARGIN_BPS} bps"
    )
    seed = target_amounts(spec, 1_000_000)
    for token, amount in zip(tokens, seed):
        token.mint(alice, amount, sender=deployer)
        token.approve(vault, amount, sender=alice)
    vault.join(0, seed, alice, sender=alice)
    gas: dict[str, int] = {}

    def check(label):
        needed, data = upkeep.checkUpkeep(b"")
        gas[f"checkUpkeep ({label})"] = upkeep.checkUpkeep.transact(b"", sender=keeper).gas_used
        return needed, bytes(data)

    needed, data = check("nothing due")
    echo(f"checkUpkeep before the rally: {needed}, {data.decode()!r}")
    wbtc = 1
    rally = spec.assets[wbtc].price * 1.4
    feeds[wbtc].set_answer(feed_answer(rally, spec.feed_decimals), sender=deployer)
    echo(f"WBTC oracle +40% to ${rally:,.0f}; max drift {lens.max_drift(vault) / WAD:.2%}")
    needed, data = check("open due")
    tx = upkeep.performUpkeep(data, sender=keeper)
    gas["performUpkeep (open)"] = tx.gas_used
    echo(f"checkUpkeep: {needed}, action {int.from_bytes(data, 'big')}; performUpkeep opened auction 1:")
    for e in tx.events.filter(auction.LotOffered):
        echo(f"  lot {e.lot}: {symbol[e.sell]} -> {symbol[e.buy]}, ${e.usd_value / WAD:,.0f}")

    external = {str(t.address): a.price for t, a in zip(tokens, spec.assets)}
    external[str(tokens[wbtc].address)] = rally
    header = f"{'min':>4} {'lot':>3} {'pair':<12} {'sold':>14} {'paid':>14} {'m(t)':>8} {'vs oracle':>9} {'gas':>8}"
    echo("\n" + header + "\n" + "-" * len(header))
    fills = []
    opened_at = int(auction.opened_at())
    for token in tokens:  # the filler's inventory, bought elsewhere
        token.mint(filler, 10**30, sender=deployer)
    for t in range(STEP, int(p["ttl"]) + 1, STEP):
        if not auction.is_open() or not lens.needs_rebalance(vault)[0]:
            break
        chain.pending_timestamp = opened_at + t  # the next transaction's time: the quote's
        for lot in read_auction(auction, vault, opened_at + t):
            decision = profitable_fill(lot, external, FILLER_MARGIN_BPS, 10**30)
            if decision is None or not lens.needs_rebalance(vault)[0]:
                continue
            buy_amount, min_sell = decision
            buy_token = tokens[[str(x.address) for x in tokens].index(lot.buy)]
            receipt = fill(auction, lot, buy_amount, min_sell, filler, buy_token)
            for f in filled_events(receipt, auction):
                fills.append({**f, "gas": receipt.gas_used, "minute": t / 60})
                echo(
                    f"{t / 60:>4.0f} {f['lot']:>3} {symbol[lot.sell] + '->' + symbol[lot.buy]:<12} "
                    f"{f['sold'] / 10**lot.sell_decimals:>14,.6f} {f['bought'] / 10**lot.buy_decimals:>14,.4f} "
                    f"{f['multiplier'] / WAD:>8.5f} {f['price_vs_oracle_bps']:>7} bp {receipt.gas_used:>8,}"
                )
    if fills:
        gas["fill (first)"] = fills[0]["gas"]
    echo(
        f"\nAfter {len(fills)} fills: max drift {lens.max_drift(vault) / WAD:.2%}, due: {lens.needs_rebalance(vault)[0]}"
    )
    needed, data = check("close due")
    tx = upkeep.performUpkeep(data, sender=keeper)
    gas["performUpkeep (close)"] = tx.gas_used
    closed = tx.events.filter(auction.AuctionClosed)[0]
    echo(
        f"checkUpkeep: {needed}, action {int.from_bytes(data, 'big')}; performUpkeep closed auction 1: {closed.reason!r}"
    )
    wbtc_bought = tokens[wbtc].balanceOf(filler) - 10**30
    echo(f"The filler bought {wbtc_bought / 10**8:,.6f} WBTC from the vault")

    # The direct calls, for the gas table: WBTC up again, the keeper opens, the guardian closes.
    feeds[wbtc].set_answer(feed_answer(rally * 1.1, spec.feed_decimals), sender=deployer)
    gas["open (keeper, 3 lots)"] = auction.open(sender=keeper).gas_used
    gas["close (guardian)"] = auction.close(sender=guardian).gas_used
    echo("\n" + f"{'step':<28} {'gas':>10}")
    echo("-" * 39)
    for name, used in gas.items():
        echo(f"{name:<28} {used:>10,}")
    return {"fills": fills, "gas": gas, "closed": closed.reason}
