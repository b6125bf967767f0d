"""The demo's first days on ape's local chain: it deploys its market, lends idle USDC and WETH on
Morpho Blue, rebalances when its trigger holds, and reports the interest its lending earned."""

from ballast import demo


def test_demo__first_days__rebalances_and_lending_earns(project, chain, accounts):
    lines = []
    result = demo.run(project, chain, accounts, days=6, echo=lines.append)
    assert result["rows"] and all(r["drift_after"] < r["drift_before"] for r in result["rows"])
    assert [r["symbol"] for r in result["lending"]] == list(demo.LENT_ASSETS)
    for row in result["lending"]:
        # About 6 % a year on the lent half, over 6 days.
        assert 0.04 < row["apr"] < 0.08 and row["earned"] > 0
    assert {"deposit", "join", "lend", "exit", "rebalance"} <= set(result["gas"])
    assert any(line.startswith("lending (Morpho Blue)") for line in lines)
