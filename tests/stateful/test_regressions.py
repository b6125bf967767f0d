"""Deterministic cases distilled from the state machine's findings (see README.md beside this file).

Each one was first found by ``test_vault_stateful.py`` (against the vault or a mutant of it);
here it runs in a fixed setting so it never depends on the fuzzer's luck.
"""

from __future__ import annotations

from ballast.constants import MAX_BPS, WAD

from .boa_stack import ENV, AssetParams, BoaStack, StackConfig, revert_reason, units_for_usd

KEEPER = ENV.generate_address("regression keeper")
GUARDIAN = ENV.generate_address("regression guardian")
HOLDER = ENV.generate_address("regression holder")


def _stack(weights: list[int], decimals: list[int], trigger_type: int = 1) -> BoaStack:
    assets = [AssetParams(d, 10**8, w, 100, 300) for d, w in zip(decimals, weights)]
    return BoaStack.deploy(StackConfig(assets=assets, trigger_type=trigger_type, cooldown=0), KEEPER, GUARDIAN)


def _join(stack: BoaStack, usd: int, weights: list[int]) -> None:
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
            total = sum(int(t) for t in stack.vault.target_weights())
            assert abs(total - WAD) < slack
        ENV.time_travel(seconds=3_601)
        assert [int(t) for t in stack.vault.target_weights()] == [w * 10**14 for w in (5_000, 1, 4_999)]


def test_rebalance__dust_trade_moving_no_weight__reverts_drift_not_reduced():
    """The counterexample that exposed a vault without its total-drift check: 1,000 base units
    of an 18-decimal asset ($1e-15) move no weight by one wei, so total drift does not fall."""
    with ENV.anchor():
        weights = [5_000, 5_000]
        stack = _stack(weights, [18, 18])
        # 10% over on asset 0 (due on the threshold trigger); an uneven total, so that no weight
        # sits exactly on a wei and rounding cannot hide a change either way.
        _join(stack, 1_000_003, [6_000, 4_000])
        due, _ = stack.vault.needs_rebalance()
        assert due
        before = stack.state().drifts
        trade = (stack.amm.address, stack.tokens[0].address, stack.tokens[1].address, 1_000, 0)
        with ENV.prank(KEEPER):
            try:
                stack.vault.rebalance([trade])
                reason = None
            except Exception as err:  # noqa: BLE001 - the backend's revert type
                reason = revert_reason(err)
        assert reason == "vault: drift not reduced"
        assert stack.state().drifts == before
