"""``ape run vault <command>``: the depositor's command line over :mod:`ballast.depositor`.

Each command resolves and checks the vault first (:func:`~ballast.depositor.target.resolve`),
so a wrong network, address or contract is named before anything is read or sent; ``join``,
``deposit`` and ``exit`` show their preview and send nothing without confirmation (or ``--yes``).
``--json`` prints one JSON object (errors too: ``{"error": ...}``, exit status 1).
"""

from __future__ import annotations

import functools
import json
from contextlib import contextmanager

import click
from ape.cli import ConnectedProviderCommand, account_option

from ballast.checks import InputError, click_callback, require_address
from ballast.depositor import as_json, entries, history, status
from ballast.depositor.target import DEPLOYMENTS, resolve


@contextmanager
def _errors(as_json_output: bool):
    """An :class:`InputError` or a revert becomes one line (or ``{"error": ...}``) and exit status 1."""
    try:
        yield
    except (InputError, entries.VaultReverted) as err:
        if as_json_output:
            click.echo(json.dumps({"error": str(err)}))
            raise click.exceptions.Exit(1) from None
        raise click.ClickException(str(err)) from None


def _address_option(name: str, help: str):
    return click.option(
        f"--{name}",
        f"{name}_address",
        default=None,
        callback=click_callback(lambda value: None if value is None else require_address(value, f"--{name}")),
        help=help,
    )


def vault_command(group, sends: bool = False):
    """A subcommand of ``group`` connected to ``--network``, with the vault's options (and the
    sender's, when it ``sends``); the function gets a checked ``target`` first."""

    def wrap(function):
        @group.command(cls=ConnectedProviderCommand, name=function.__name__.removesuffix("_command"))
        @_address_option("vault", "Vault (default: deployments/<network>.json).")
        @_address_option("lens", "VaultLens (default: the record's).")
        @_address_option("factory", "VaultFactory that must have made the vault (default: the record's).")
        @click.option("--deployments", default=str(DEPLOYMENTS), show_default=True, help="Deployment records folder.")
        @click.option("--json", "as_json_output", is_flag=True, help="Print one JSON object.")
        @functools.wraps(function)
        def command(provider, vault_address, lens_address, factory_address, deployments, as_json_output, **kwargs):
            from ape import project

            with _errors(as_json_output):
                target = resolve(project, provider, vault_address, lens_address, factory_address, deployments)
                function(target, provider, as_json_output=as_json_output, **kwargs)

        if sends:
            command = account_option()(command)
            command = click.option("--yes", is_flag=True, help="Send without asking.")(command)
            command = click.option(
                "--slippage-bps",
                type=int,
                default=None,
                help=f"Tolerance of the bound against the preview (default {entries.DEFAULT_SLIPPAGE_BPS}).",
            )(command)
            command = _address_option("receiver", "Receiver (default: the account).")(command)
        return command

    return wrap


@click.group()
def cli():
    """A Ballast vault for its depositors: status, join, deposit, exit, history."""


def _emit(as_json_output: bool, command: str, target, result, text: str) -> None:
    click.echo(json.dumps(as_json(command, target, result), indent=2) if as_json_output else text)


@vault_command(cli)
def status_command(target, provider, as_json_output):
    """Basket, weights against targets and bands, NAV per share and the trigger."""
    s = status.read_status(target)
    _emit(as_json_output, "status", target, s, status.format_status(s))


@vault_command(cli)
@click.option("--from-block", type=int, default=0, show_default=True, help="First block to read.")
def history_command(target, provider, as_json_output, from_block):
    """Rebalances with their fills, entries and exits, NAV per share: from events."""
    h = history.read_history(target, provider, from_block)
    _emit(as_json_output, "history", target, h, history.format_history(h, target))


def _confirm_and_send(target, action, account, yes: bool, as_json_output: bool) -> None:
    if not as_json_output:
        click.echo(entries.format_action(action))
    sent = None
    if yes or click.confirm("send?", err=True, default=False):
        sent = entries.send(target, action, account)
    if as_json_output:
        _emit(True, action.kind, target, {"preview": action, "sent": sent}, "")
    elif sent:
        click.echo(entries.format_sent(sent, target))
    else:
        click.echo("not sent")


@vault_command(cli, sends=True)
@click.option("--shares", default=None, help="Shares to mint (decimal, 18 decimals).")
@click.option("--amounts", default=None, help="First join into an empty vault: one amount per asset, comma-separated.")
@click.option("--no-approve", is_flag=True, help="Send no approvals: fail if an allowance is short.")
def join_command(
    target, provider, as_json_output, account, yes, slippage_bps, receiver_address, shares, amounts, no_approve
):
    """Join in kind: pay each asset in proportion to the vault's holdings."""
    units = entries.to_units(shares, entries.SHARE_DECIMALS, "--shares") if shares else 0
    parsed = None
    if amounts:
        parts = [p for p in amounts.split(",")]
        if len(parts) != len(target.tokens):
            raise InputError(f"--amounts: one per asset ({', '.join(target.symbols)}), got {len(parts)}")
        parsed = [entries.to_units(p, d, f"--amounts[{i}]") for i, (p, d) in enumerate(zip(parts, target.decimals))]
    if not units and not parsed:
        raise InputError("--shares: how many shares to mint (or --amounts for a first join)")
    action = entries.preview_join(
        target, account.address, units, parsed, slippage_bps, receiver_address, not no_approve
    )
    _confirm_and_send(target, action, account, yes, as_json_output)


@vault_command(cli, sends=True)
@click.option("--asset", required=True, help="Basket asset: symbol or address.")
@click.option("--amount", required=True, help="Amount of the asset (decimal).")
@click.option("--no-approve", is_flag=True, help="Send no approvals: fail if the allowance is short.")
def deposit_command(
    target, provider, as_json_output, account, yes, slippage_bps, receiver_address, asset, amount, no_approve
):
    """Deposit one asset at its oracle value, less the entry haircut."""
    i = target.index(asset)
    units = entries.to_units(amount, target.decimals[i], "--amount")
    action = entries.preview_deposit(
        target, account.address, asset, units, slippage_bps, receiver_address, not no_approve
    )
    _confirm_and_send(target, action, account, yes, as_json_output)


@vault_command(cli, sends=True)
@click.option("--shares", default=None, help="Shares to burn (decimal); default all you hold.")
def exit_command(target, provider, as_json_output, account, yes, slippage_bps, receiver_address, shares):
    """Exit in kind: burn shares for a pro-rata part of every asset (works while paused)."""
    units = (
        entries.to_units(shares, entries.SHARE_DECIMALS, "--shares")
        if shares
        else int(target.vault.balanceOf(account.address))
    )
    action = entries.preview_exit(target, account.address, units, slippage_bps, receiver_address)
    _confirm_and_send(target, action, account, yes, as_json_output)
