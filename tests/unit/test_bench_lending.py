"""The bench's lending table on ape's local chain: every row, and lending's costs where they must be."""

from ballast.bench.context import Context
from ballast.bench.lending import bench_lending


def test_bench_lending__table_has_every_row_and_lending_costs_gas(project, chain, accounts):
    table = bench_lending(Context(project, chain, project.provider, list(accounts), lambda *_: None))
    rows = {r[0]: r[1:] for r in table.rows}
    assert [r[0].split(" (")[0] for r in table.rows] == [
        "join",
        "deposit",
        "exit",
        "exit",
        "rebalance",
        "rebalance",
        "lend",
        "recall",
        "Vault code, deployed",
        "Vault margin under EIP-170",
        "LendingSleeve code",
        "Rules code",
    ]

    def gas(cell: str) -> int:
        return int(cell.replace(",", "").replace("+", ""))

    for label, (off, on, diff) in rows.items():
        if label.startswith(("join", "deposit", "exit", "rebalance")):
            assert gas(on) > gas(off) and gas(diff) == gas(on) - gas(off), label
    margin = gas(rows["Vault margin under EIP-170 (bytes)"][0])
    assert margin == 24_576 - gas(rows["Vault code, deployed (bytes)"][0]) and margin >= 2_000  # as test_vault_factory
    recall = next(v for k, v in rows.items() if "recalled" in k)
    plain = next(v for k, v in rows.items() if "idle covers" in k)
    assert gas(recall[1]) > gas(plain[1])  # the recall costs gas on top


def test_bench_markdown__kept_sections__carried_over_from_heading_to_next_heading():
    """make bench rewrites BENCHMARKS.md; the sections other commands measured (the Dask sweeps)
    are carried over verbatim, from their heading to the next one, and nothing else is."""
    from ballast.bench.run import kept_sections

    text = "# Ballast\n\n## Lending\nold table\n\n## Sweeps on Dask\n\n| a | b |\nrow\n\n## Floors\nx\n"
    assert kept_sections(text) == ["## Sweeps on Dask\n\n| a | b |\nrow\n"]
    assert kept_sections("# Ballast\n\n## Sweeps on Dask\nlast\n") == ["## Sweeps on Dask\nlast\n"]
    assert kept_sections("# Ballast\n\n## Lending\n") == []
