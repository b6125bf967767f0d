"""Backtest rebalance policies: ``ape run backtest [OPTIONS]``.

A thin wrapper: every option goes unchanged to ``python -m ballast.backtest``
(see ``ape run backtest --help``). Needs no network or accounts.
"""

import click

from ballast.backtest import main


@click.command(add_help_option=False, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args: tuple[str, ...]) -> None:
    """Backtest Ballast rebalance policies (options as python -m ballast.backtest)."""
    status = main(list(args), prog="ape run backtest")
    if status:
        raise click.exceptions.Exit(status)
