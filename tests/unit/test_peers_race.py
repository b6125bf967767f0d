"""``ape run peers``: Ballast, Set Protocol v2 and a Balancer V2 weighted pool through the same
moves on the same chain; each back at its targets (Balancer at the oracle's prices), from receipts
and oracle prices."""


def test_race__both_rebalance_each_move__ballast_cheaper_in_gas_and_value(project, chain, accounts):
    from ballast.peers.race import MOVES, run

    lines = []
    result = run(project, chain, accounts, echo=lines.append)
    rows = result["rows"]
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
    assert set(result["entry"]) == {
        "Ballast join",
        "Set issue",
        "Balancer joinPool",
        "Ballast exit",
        "Set redeem",
        "Balancer exitPool",
        "Ballast deposit (USDC)",
        "Balancer joinPool (USDC)",
    }
    assert "Ballast's rebalance gas / Set's" in lines[0]
