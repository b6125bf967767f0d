"""``ape run peers``: Ballast, Set Protocol v2 and a Balancer V2 weighted pool through the same
moves on the same chain; each back at its targets (Balancer at the oracle's prices), from receipts
and oracle prices; then the same turns with a sandwich attacker on every DEX trade."""

import pytest

from ballast.peers.race import MOVES, run


@pytest.fixture(scope="module")
def race(project, chain, accounts):
    lines = []
    result = run(project, chain, accounts, echo=lines.append)
    result["lines"] = lines
    return result


def _attacked(race, system):
    return [a for a in race["attacked"] if a.system == system]


def test_race__both_rebalance_each_move__ballast_cheaper_in_gas_and_value(race):
    rows = race["rows"]
    assert [(r.system, r.move) for r in rows] == [
        (s, m) for m, _, _ in MOVES for s in ("Ballast", "Set v2", "Balancer")
    ]
    for ballast, peer, pool in zip(rows[0::3], rows[1::3], rows[2::3]):
        assert ballast.trades == peer.trades == 3
        assert (ballast.transactions, peer.transactions) == (1, 4)  # Set: startRebalance + 3 trades
        assert 0 < ballast.gas < peer.gas
        assert 0 < ballast.value_lost < peer.value_lost
        assert pool.trades > 0 and pool.value_lost > 0  # the arbitrageurs' profit: the pool's LVR
        # Within the fee's reach of the backtester's zero-fee AMM model, and below it.
        measured = pool.value_lost * 1e4 / pool.basket
        assert pool.model_bps - 30 < measured < pool.model_bps, (measured, pool.model_bps)
        assert len(ballast.receipts) == 1 and len(peer.receipts) == 4 and len(pool.receipts) == pool.transactions
    assert set(race["entry"]) == {
        "Ballast join",
        "Set issue",
        "Balancer joinPool",
        "Ballast exit",
        "Set redeem",
        "Balancer exitPool",
        "Ballast deposit (USDC)",
        "Balancer joinPool (USDC)",
    }
    assert "Ballast's rebalance gas / Set's" in race["lines"][0]


def test_race_attacker__ballast_min_outs__no_front_run_pays_and_the_loss_is_unchanged(race):
    for turn in _attacked(race, "Ballast"):
        assert len(turn.sandwiches) == 3
        # The min-outs admit front-runs (the search had room) ...
        assert all(s.plan.admitted > 0 and s.plan.tried > 1 for s in turn.sandwiches)
        # ... but none pays: the attacker's best is the back-run alone, and the vault loses to the wei
        # what it loses without the attacker.
        assert all(s.plan.best.front_run == 0 and s.gain == 0 for s in turn.sandwiches)
        assert turn.front_runs == 0 and turn.gain == 0
        assert turn.lost_with == turn.lost_without
        # What the attacker makes is the back-runs of the vault's own impact, exactly as searched.
        assert all(s.result == s.plan.best.result == s.plan.back_run_alone for s in turn.sandwiches)


def test_race_attacker__set_50bps_limits__a_front_run_pays_and_set_loses_more(race):
    for turn in _attacked(race, "Set v2"):
        assert len(turn.sandwiches) == 3
        assert {s.exact_output for s in turn.sandwiches} == {False, True}  # sells, then exact-output buys
        assert turn.front_runs >= 1
        assert turn.gain > 0  # the front-runs add to the back-runs alone
        for s in turn.sandwiches:
            assert s.result == s.plan.best.result  # the chain did what the search predicted, to the wei
            if s.plan.best.front_run:
                assert s.gain > 0 and s.transactions >= 1 and s.front_run_out > 0
        assert turn.lost_with > turn.lost_without + turn.gain  # Set loses more than the attacker gains


def test_race_attacker__with_and_without__ballast_loses_less_than_set_and_balancer(race):
    for move, _, _ in MOVES:
        turn = {a.system: a for a in race["attacked"] if a.move == move}
        assert turn["Balancer"].lost_with is None  # passive: nothing to sandwich
        balancer = turn["Balancer"].lost_without
        assert turn["Ballast"].lost_without < turn["Set v2"].lost_without
        assert turn["Ballast"].lost_with < turn["Set v2"].lost_with
        assert turn["Ballast"].lost_with < balancer and turn["Ballast"].lost_without < balancer


def test_race_targets__each_with_its_figure(race):
    targets = {name: (measured, met) for name, _, measured, met in race["targets"]}
    by = {(r.system, r.move): r for r in race["rows"]}
    for move, _, _ in MOVES:
        ratio = by["Ballast", move].gas / by["Set v2", move].gas
        measured, met = targets[f"rebalance gas, {move}"]
        assert measured.endswith(f"= {ratio:.3f}x") and met == (ratio <= 0.5)
        for attacker in ("with", "without"):
            assert targets[f"value lost, {move}, {attacker} the attacker"][1]
    assert targets["join gas"][1] and targets["exit gas"][1]
    entry = race["entry"]
    assert targets["join gas"][0].startswith(f"{entry['Ballast join']:,} vs {entry['Set issue']:,}")
    assert any("the issue's targets" in line for line in race["lines"])
