"""``ape run peers``: Ballast and Set Protocol v2 rebalanced through the same moves on the same
Uniswap V2 pairs; each back at its targets, from receipts and oracle prices."""


def test_race__both_rebalance_each_move__ballast_cheaper_in_gas_and_value(project, chain, accounts):
    from ballast.peers.race import MOVES, run

    lines = []
    result = run(project, chain, accounts, echo=lines.append)
    rows = result["rows"]
    assert [(r.system, r.move) for r in rows] == [(s, m) for m, _, _ in MOVES for s in ("Ballast", "Set v2")]
    for ballast, peer in zip(rows[0::2], rows[1::2]):
        assert ballast.trades == peer.trades == 3
        assert (ballast.transactions, peer.transactions) == (1, 4)  # Set: startRebalance + 3 trades
        assert 0 < ballast.gas < peer.gas
        assert 0 < ballast.value_lost < peer.value_lost
    assert set(result["entry"]) == {"Ballast join", "Set issue", "Ballast exit", "Set redeem", "Ballast deposit (USDC)"}
    assert "Ballast's rebalance gas / Set's" in lines[0]
