"""Deterministic cases distilled from the state machine's findings (see README.md beside this file).

Each one was first found by ``test_vault_stateful.py`` (against the vault or a mutant of it);
here it runs in a fixed setting so it never depends on the fuzzer's luck.
"""

from __future__ import annotations

from ballast.constants import MAX_BPS, WAD
from ballast.fuzz.stack import (
    ENV,
    AssetParams,
    EvmError,
    FuzzStack,
    StackConfig,
    balances_calldata,
    plan_trades,
    revert_reason,
    units_for_usd,
)

KEEPER = ENV.generate_address("regression keeper")
GUARDIAN = ENV.generate_address("regression guardian")
HOLDER = ENV.generate_address("regression holder")


def _stack(weights: list[int], decimals: list[int], trigger_type: int = 1) -> FuzzStack:
    assets = [AssetParams(d, 10**8, w, 100, 300) for d, w in zip(decimals, weights)]
    return FuzzStack.deploy(StackConfig(assets=assets, trigger_type=trigger_type, cooldown=0), KEEPER, GUARDIAN)


def _join(stack: FuzzStack, usd: int, weights: list[int]) -> None:
    amounts = [units_for_usd(usd * w // MAX_BPS, a.answer, a.decimals) for w, a in zip(weights, stack.config.assets)]
    stack.fund(HOLDER, amounts)
    with ENV.prank(HOLDER):
        stack.vault.join(0, amounts, HOLDER)


def test_targets__retarget_mid_ramp__sum_stays_within_a_wei_per_asset_per_ramp():
    """Found as a false alarm of the model: a ramp started mid-ramp starts from the rounded
    effective targets, so the targets' sum may be off 100% by up to one wei per asset per ramp."""
    with ENV.anchor():
        stack = _stack([3_333, 3_333, 3_334], [18, 6, 8])
        slack = 0
        for weights, elapsed in (([1, 2, 9_997], 1_201), ([9_990, 7, 3], 2_333), ([5_000, 1, 4_999], 3_599)):
            with ENV.prank(stack.owner):
                stack.vault.set_target_weights(weights, 3_601)
            ENV.time_travel(seconds=elapsed)
            slack += len(weights)
            total = sum(int(t) for t in stack.views.target_weights(stack.vault.address))
            assert abs(total - WAD) < slack
        ENV.time_travel(seconds=3_601)
        assert [int(t) for t in stack.views.target_weights(stack.vault.address)] == [
            w * 10**14 for w in (5_000, 1, 4_999)
        ]


def test_rebalance__dust_trade_moving_no_weight__reverts_drift_not_reduced():
    """The counterexample that exposed a vault without its total-drift check: 1,000 base units
    of an 18-decimal asset ($1e-15) move no weight by one wei, so total drift does not fall."""
    with ENV.anchor():
        weights = [5_000, 5_000]
        stack = _stack(weights, [18, 18])
        # 10% over on asset 0 (due on the threshold trigger); an uneven total, so that no weight
        # sits exactly on a wei and rounding cannot hide a change either way.
        _join(stack, 1_000_003, [6_000, 4_000])
        due, _ = stack.views.needs_rebalance(stack.vault.address)
        assert due
        before = stack.state().drifts
        trade = (stack.v2.address, stack.tokens[0].address, stack.tokens[1].address, 1_000, 0)
        with ENV.prank(KEEPER):
            try:
                stack.vault.rebalance([trade])
                reason = None
            except Exception as err:  # noqa: BLE001 - the backend's revert type
                reason = revert_reason(err)
        assert reason == "vault: drift not reduced"
        assert stack.state().drifts == before


def _rebalance(stack: FuzzStack, trades: list[tuple]) -> str | None:
    """Send ``trades`` as the keeper; the revert reason, or None if accepted."""
    with ENV.prank(KEEPER):
        try:
            stack.vault.rebalance(trades)
        except EvmError as err:
            return revert_reason(err)
    return None


def _usd_units(stack: FuzzStack, i: int, usd: int) -> int:
    a = stack.config.assets[i]
    return units_for_usd(usd, a.answer, a.decimals)


def test_rebalance__one_asset_drift_grows_while_total_falls__reverts_drift_grew():
    """A plan that lowers total drift but grows one asset's: asset 0 (+10%) sells $50k to asset 1
    (-10%), and $10k to asset 2 (on target), whose drift grows to +1%, far beyond the tolerance
    the cost allows (the fee on $60k of a $1M vault). No asset overshoots, cost and turnover are
    within their limits: only the per-asset check refuses it. Fails with the "vault: drift grew"
    assert removed from Vault.vy (the rebalance is then accepted); the state machine did not
    produce this revert before ``drift_growing_rebalance``."""
    with ENV.anchor():
        weights = [4_000, 3_000, 3_000]
        stack = _stack(weights, [18, 6, 8])
        _join(stack, 1_000_000, [5_000, 2_000, 3_000])
        assert stack.views.needs_rebalance(stack.vault.address)[0]
        drifts = stack.state().drifts
        v2, t = stack.v2.address, stack.tokens
        main_leg = (v2, t[0].address, t[1].address, _usd_units(stack, 0, 50_000), 0)
        growing_leg = (v2, t[0].address, t[2].address, _usd_units(stack, 0, 10_000), 0)
        with ENV.anchor():  # control: the main leg alone is accepted
            assert _rebalance(stack, [main_leg]) is None
        assert _rebalance(stack, [main_leg, growing_leg]) == "vault: drift grew"
        assert stack.state().drifts == drifts


def test_rebalance__inside_the_cooldown__reverts_cooldown():
    """The vault counts its cooldown from deployment: a planner plan for a vault that is due is
    refused until the cooldown is over, then accepted unchanged. Fails with the cooldown assert
    removed from Vault.vy (accepted at once)."""
    with ENV.anchor():
        weights = [5_000, 5_000]
        assets = [AssetParams(d, 10**8, w, 100, 300) for d, w in zip([18, 6], weights)]
        stack = FuzzStack.deploy(StackConfig(assets=assets, cooldown=3_600), KEEPER, GUARDIAN)
        _join(stack, 1_000_000, [6_000, 4_000])
        assert stack.views.needs_rebalance(stack.vault.address)[0]
        trades = plan_trades(stack.plan())
        assert trades
        ENV.time_travel(seconds=3_599)
        assert _rebalance(stack, trades) == "vault: cooldown"
        ENV.time_travel(seconds=1)
        assert _rebalance(stack, trades) is None


def test_join_and_exit__token_calls_back_mid_transfer__sees_consistent_tracked_balances():
    """A basket token that calls back into the vault during its transfer reads ``balances`` as
    they are before a join credits it (pull first, then credit) and after an exit debits it
    (debit first, then send): a read-only reentrant reader never sees assets credited that have
    not arrived, or still owed that have left. Fails with ``join`` crediting the balances before
    pulling the tokens (or ``exit`` debiting after sending) in Vault.vy."""
    with ENV.anchor():
        assets = [AssetParams(18, 10**8, 5_000, 100, 300), AssetParams(18, 10**8, 5_000, 100, 300, reentrant=True)]
        stack = FuzzStack.deploy(StackConfig(assets=assets), KEEPER, GUARDIAN)
        _join(stack, 1_000_000, [5_000, 5_000])
        token, vault = stack.tokens[1], stack.vault

        def read_mid_transfer(call) -> int:
            token.arm_static(vault.address, balances_calldata(token))
            with ENV.prank(HOLDER):
                call()
            assert token.mode() == 0 and token.last_static_ok()
            return int.from_bytes(bytes(token.last_static_result())[:32], "big")

        tracked = int(vault.balances(token))
        shares = int(vault.totalSupply()) // 10
        amounts = [int(a) for a in stack.views.preview_join(vault.address, shares)]
        stack.fund(HOLDER, amounts)
        assert read_mid_transfer(lambda: vault.join(shares, amounts, HOLDER)) == tracked
        assert int(vault.balances(token)) == tracked + amounts[1]
        tracked = int(vault.balances(token))
        out = [int(a) for a in stack.views.preview_exit(vault.address, shares)]
        assert read_mid_transfer(lambda: vault.exit(shares, out, HOLDER)) == tracked - out[1]


def test_rebalance__drift_grows_by_exactly_the_tolerance__accepted_and_one_unit_more_refused():
    """The vault lets an asset's |drift| grow by the weight the value lost moves, rounded up
    (``tol = ceil(cost * 1e18 / value_after)``, TECH_SPEC), and not one wei more. Asset 0 (+10%)
    sells $50k to asset 1 (-10%), and a second leg sells asset 0 for asset 2 (on target, so its
    drift grows), sized by bisection on the vault itself (every try in a rolled-back anchor) to
    the largest the vault accepts: there asset 2's drift grew by exactly the tolerance of that
    rebalance's own cost, and one unit more is refused with "vault: drift grew". Fails with the
    tolerance rounded down in Vault.vy (the boundary is then one wei lower); the state machine
    reaches this edge only by chance (``drift_tolerance_rebalance`` aims at it)."""
    with ENV.anchor():
        stack = _stack([4_000, 3_000, 3_000], [18, 18, 18])
        _join(stack, 1_000_003, [5_000, 2_000, 3_000])
        v2, t = stack.v2.address, stack.tokens
        main = (v2, t[0].address, t[1].address, _usd_units(stack, 0, 50_000), 0)

        def tried(amount: int):
            """(revert reason or None, asset 2's drift growth, tolerance) of the two legs."""
            with ENV.anchor():
                before = stack.state()
                with ENV.prank(KEEPER):
                    try:
                        cost = int(stack.vault.rebalance([main, (v2, t[0].address, t[2].address, amount, 0)]))
                    except EvmError as err:
                        return revert_reason(err), None, None
                after = stack.state()
            growth = abs(after.drifts[2]) - abs(before.drifts[2])
            return None, growth, -(-cost * WAD // after.total_value)

        lo = next(10**e for e in range(30) if tried(10**e)[0] is None)
        hi = _usd_units(stack, 0, 10_000)  # a 1% drift: far beyond the tolerance
        assert tried(hi)[0] == "vault: drift grew"
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if tried(mid)[0] is None else (lo, mid)
        reason, growth, tolerance = tried(lo)
        assert reason is None and growth == tolerance > 0, (growth, tolerance)
        assert tried(lo + 1)[0] == "vault: drift grew"


def test_lending__market_loses_everything__counted_rate_falls_not_back_to_the_checkpoint():
    """Found by the long lending run (market_loss of 100% after a 1 bps loss): once a market
    holds nothing, its rate reads 0 (``convertToAssets(10**18)`` rounds to 0 with 10**18 shares
    or more), which the sleeve took for "cannot be read" and counted at its last checkpoint, so
    a total loss raised the counted rate back to the checkpoint instead of lowering it. The
    sleeve now tells a zero rate from a failed call (``_read_rate``)."""
    with ENV.anchor():
        config = StackConfig(
            assets=[AssetParams(18, 10**8, 5_000, 100, 300), AssetParams(18, 10**8, 5_000, 100, 300)],
            lent=(0,),
            buffer_bps=(0,),
        )
        stack = FuzzStack.deploy(config, KEEPER, GUARDIAN)
        _join(stack, 1_000_000, [5_000, 5_000])
        token, market = stack.tokens[0], stack.markets[0]
        with ENV.prank(KEEPER):
            stack.vault.lend(token.address, int(stack.vault.balances(token.address)) // 2)
        market.lose(int(token.balanceOf(market.address)) // 10_000)  # 1 bps: counted at once
        after_small_loss = int(stack.sleeve.counted_rate(token.address))
        assert after_small_loss < 10**18
        market.lose(int(token.balanceOf(market.address)))  # everything
        after_total_loss = int(stack.sleeve.counted_rate(token.address))
        assert after_total_loss == 0, (
            f"a total loss counted at the checkpoint: {after_small_loss} -> {after_total_loss}"
        )


def test_lending__recall_at_a_rate_above_the_counted_one__realises_the_excess_and_can_refuse_a_plan():
    """Found by the long lending run (keeper_rebalance after a donation, with a 0% rate-rise
    bound): a trade larger than the idle balance recalls the shortfall at the market's reported
    rate, while the vault counted the lent part at the lower, bounded rate. The recall burns
    fewer shares than the counted value it takes out, so the vault's counted value rises by part
    of the not-yet-counted excess. A plan made on the counted state (as the keeper's is) does not
    foresee it, and an untouched underweight asset's drift grows with the value: the vault
    refuses ("vault: drift grew"; the cost, hence the tolerance, is 0 when value rose). Control:
    the same trade without the donation is accepted. Nothing is lost; the keeper's recourse is
    to recall first (``vault.recall``) and plan on the new state, which this test shows
    accepted. The fuzzer counts such refusals as an outcome instead of failing."""
    with ENV.anchor():
        config = StackConfig(
            assets=[AssetParams(18, 10**8, w, 100, 300) for w in (3_000, 3_500, 3_500)],
            cooldown=0,
            lent=(0,),
            buffer_bps=(0,),
            max_rate_rise_bps=0,
        )
        stack = FuzzStack.deploy(config, KEEPER, GUARDIAN)
        _join(stack, 1_000_000, [5_000, 2_500, 2_500])
        token, market = stack.tokens[0], stack.markets[0]
        with ENV.prank(KEEPER):
            stack.vault.lend(token.address, int(stack.vault.balances(token.address)))
        sell = _usd_units(stack, 0, 50_000)  # all of it recalled: nothing of asset 0 is idle
        leg = (stack.v2.address, token.address, stack.tokens[1].address, sell, 0)
        with ENV.anchor():  # control: no excess, the trade is accepted
            assert _rebalance(stack, [leg]) is None
        token.mint(market.address, int(token.balanceOf(market.address)) // 2)  # a 50% donation
        value_before = stack.state().total_value
        with ENV.anchor():
            assert _rebalance(stack, [leg]) == "vault: drift grew"
        with ENV.prank(KEEPER):
            stack.vault.recall(token.address, sell)  # the keeper's recourse: recall, then trade idle
        assert stack.state().total_value > value_before  # the recall realised part of the excess
        assert _rebalance(stack, [leg]) is None


def test_lending__recall_realising_uncounted_gains__must_not_pay_for_trading_cost_past_the_cap():
    """Found by the long lending run at 8da9285 (``share_value_moves_only_with_prices_fees_and_cost``,
    320,655 steps into ``--lending third``: a donation to a lent asset's market with a 0% rate-rise
    bound, then a rebalance selling that asset past its idle balance; "rebalance lost 6.97e18
    wei-USD, cap 1.002e18"). The recall pays the market's reported rate, above the counted one, so
    the vault's counted value rises by part of the uncounted excess inside the rebalance; the cost
    check (value before minus value after, both counted) then nets that gain against the trades'
    fees and price impact, and a rebalance that loses more than ``max_cost_bps`` at the rate an
    entrant pays is accepted. Control: without the donation the same trade is refused ("vault: cost
    too high"). The loss is bounded by the excess realised and by every fill's slippage limit, but
    the uncounted excess is the holders' money. Fixed: ``LendingSleeve.pull`` returns the counted
    value of the shares it burned and the vault adds the gain realised to the value before; the
    test fails on the vault before the fix (it was ``xfail(strict=True)`` until then)."""
    with ENV.anchor():
        config = StackConfig(
            assets=[AssetParams(18, 10**8, 5_000, 100, 300), AssetParams(18, 10**8, 5_000, 100, 300)],
            cooldown=0,
            max_cost_bps=1,
            lent=(0,),
            buffer_bps=(0,),
            max_rate_rise_bps=0,
        )
        stack = FuzzStack.deploy(config, KEEPER, GUARDIAN)
        _join(stack, 1_000_000, [6_000, 4_000])
        token, market = stack.tokens[0], stack.markets[0]
        with ENV.prank(KEEPER):
            stack.vault.lend(token.address, int(stack.vault.balances(token.address)))
        leg = (stack.v2.address, token.address, stack.tokens[1].address, _usd_units(stack, 0, 50_000), 0)
        with ENV.anchor():  # control: the fee on $50k (30 bps) is above 1 bps of the $1M vault
            assert _rebalance(stack, [leg]) == "vault: cost too high"
        token.mint(market.address, int(token.balanceOf(market.address)) // 2)  # a 50% donation
        assert _rebalance(stack, [leg]) == "vault: cost too high"
