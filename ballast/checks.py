"""Checks of command input, shared by every command: one sentence per problem, naming the input.

``ape run deploy``, ``ape run keeper``, ``ape run bench``, the backtester's CLI and the keeper
bot's start-up call these before their first transaction (or long computation). Each raises
:class:`InputError`, whose message reads ``<what>: <problem>, got <value>``; the scripts turn it
into a ``click.ClickException`` (exit status 1, no traceback). Each check is written once, here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from eth_utils import to_checksum_address

from ballast.constants import MAX_ASSETS, ROLE_GUARDIAN, ROLE_KEEPER

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS = "0x" + "0" * 40


class InputError(ValueError):
    """Input a command cannot use; the message names the input, the problem and the value."""


@contextmanager
def click_errors():
    """Within it, an :class:`InputError` becomes ``click.ClickException``: one line, exit 1, no traceback."""
    import click

    try:
        yield
    except InputError as err:
        raise click.ClickException(str(err)) from None


def click_callback(check):
    """A click option callback returning ``check(value)``; runs before ape's account prompt."""

    def callback(ctx, param, value):
        with click_errors():
            return check(value)

    return callback


def address_problem(value) -> str | None:
    """Why ``value`` is not a usable address, as ``must ..., got ...``; ``None`` when it is one.

    @param value A string: ``0x`` and 40 hex digits, checksummed (EIP-55) or all lowercase.
    @return ``None``, or the rule it breaks and the value.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        # PyYAML reads an unquoted `address: 0x5FbD...` as a hexadecimal integer.
        return f"must be a quoted string (YAML reads an unquoted 0x... as a number), got 0x{value:040x}"
    if not isinstance(value, str):
        return f"must be an address string, got {value!r}"
    if not _HEX_ADDRESS.match(value):
        return f"must be an address (0x and 40 hex digits), got {value!r}"
    checksummed = to_checksum_address(value)
    if value != checksummed and value != value.lower():
        return f"must be checksummed ({checksummed}) or all lowercase, got {value!r}"
    if value.lower() == ZERO_ADDRESS:
        return f"must not be the zero address, got {value!r}"
    return None


def require_address(value, what: str) -> str:
    """The checksummed address ``value``, or :class:`InputError` naming ``what``.

    @param value The address as given (``--vault``, an environment variable, ...).
    @param what How the user knows the input, e.g. ``"--vault"``.
    @return The EIP-55 checksummed address.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{what}: an address is required")
    value = value.strip() if isinstance(value, str) else value
    problem = address_problem(value)
    if problem:
        raise InputError(f"{what}: {problem}")
    return to_checksum_address(value)


def require_addresses(text: str | None, what: str, required: bool = False) -> list[str]:
    """The checksummed addresses of a comma-separated list (blank items ignored).

    @param text E.g. ``"0xabc..., 0xdef..."``.
    @param what How the user knows the input, e.g. ``"BALLAST_VENUES"``.
    @param required At least one address must be given.
    @return The addresses, in order; no duplicates allowed.
    """
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if required and not parts:
        raise InputError(f"{what}: at least one address is required, got {text!r}")
    addresses = [require_address(part, f"{what}[{i}]") for i, part in enumerate(parts)]
    for i, address in enumerate(addresses):
        if address in addresses[:i]:
            raise InputError(f"{what}[{i}]: duplicate address {address} (also {what}[{addresses.index(address)}])")
    return addresses


def require_env(env: Mapping[str, str], name: str, meaning: str) -> str:
    """The stripped value of environment variable ``name``, which must be set.

    @param meaning What the variable holds, for the message, e.g. ``"the address of the vault"``.
    """
    value = (env.get(name) or "").strip()
    if not value:
        raise InputError(f"{name} is not set: {meaning}")
    return value


def require_range(value, what: str, low=None, high=None, low_open: bool = False):
    """``value``, after checking ``low <= value <= high`` (``low < value`` if ``low_open``).

    @param low Smallest allowed value (``None``: no bound); ``high`` likewise, inclusive.
    """
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or value <= high
    if not (above and below and math.isfinite(value)):
        rules = ([f"{'>' if low_open else '>='} {low:g}"] if low is not None else []) + (
            [f"<= {high:g}"] if high is not None else []
        )
        raise InputError(f"{what}: must be {' and '.join(rules) or 'finite'}, got {value!r}")
    return value


def require_int(text, what: str, low: int | None = None, high: int | None = None) -> int:
    """``text`` (an int or its decimal text, e.g. an environment variable) as an int in range."""
    try:
        number = int(str(text).strip())
    except ValueError:
        raise InputError(f"{what}: must be an integer, got {text!r}") from None
    return require_range(number, what, low, high)


def require_number(text, what: str, low: float | None = None, high: float | None = None) -> float:
    """``text`` (a number or its text) as a finite float in range."""
    try:
        number = float(str(text).strip())
    except ValueError:
        raise InputError(f"{what}: must be a number, got {text!r}") from None
    return require_range(number, what, low, high)


def require_choice(text: str, what: str, choices: dict):
    """The value ``choices`` maps ``text`` (stripped, lower-cased) to."""
    key = (text or "").strip().lower()
    if key not in choices:
        raise InputError(f"{what}: must be one of {', '.join(repr(c) for c in choices)}, got {text!r}")
    return choices[key]


def require_file(path: str | Path, what: str) -> Path:
    """``path`` as a :class:`Path`, after checking that it is a readable file."""
    path = Path(path)
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise InputError(f"{what}: cannot read {str(path)!r}: {err.strerror or err}") from None
    return path


def require_folder_for(path: str | Path, what: str, is_folder: bool = False) -> Path:
    """``path`` as a :class:`Path`, after checking that it can be written later.

    @param is_folder ``path`` is a folder (created if missing) rather than a file.
    """
    path = Path(path)
    if is_folder:
        if path.exists() and not path.is_dir():
            raise InputError(f"{what}: {str(path)!r} exists and is not a folder")
        return path
    if path.is_dir():
        raise InputError(f"{what}: {str(path)!r} is a folder, not a file")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"{what}: cannot write {str(path)!r}: folder {str(parent)!r} does not exist")
    return path


def require_network(choice: str, networks, provider_settings: dict | None = None):
    """ape's provider context for the network ``choice``; not connected yet.

    @param networks ape's network manager (``from ape import networks``).
    @return What ``networks.parse_network_choice`` returns, to use as ``with ...:``.
    """
    from ape.exceptions import NetworkError

    try:
        return networks.parse_network_choice(choice, provider_settings=provider_settings or {})
    except NetworkError as err:
        reason = str(err).splitlines()[0].removesuffix(" Options:").rstrip(".")
        raise InputError(
            f"--network: {choice!r} is not a configured ape network ({reason}; see 'ape networks list')"
        ) from None


def require_account(alias: str, what: str, accounts):
    """The ape account of ``alias``; ``TEST::n`` is the n-th test account (as in Silverback).

    @param accounts ape's account manager (``from ape import accounts``).
    """
    alias = alias.strip()
    if alias.startswith("TEST::"):
        count = len(accounts.test_accounts)
        index = alias.removeprefix("TEST::")
        if not index.isdigit() or int(index) >= count:
            raise InputError(f"{what}: no test account {alias!r} (TEST::0 to TEST::{count - 1})")
        return accounts.test_accounts[int(index)]
    if alias not in set(accounts.aliases):
        raise InputError(f"{what}: no ape account with alias {alias!r} (see 'ape accounts list')")
    return accounts.load(alias)


def require_code(address: str, what: str, provider) -> str:
    """``address``, after checking that a contract is deployed there.

    @param provider ape's connected provider.
    """
    if not provider.get_code(address):
        raise InputError(f"{what}: no contract at {address} on {provider.network_choice}")
    return address


def require_instance(address: str, what: str, provider, container, view: str, kind: str):
    """An instance of ``container`` at ``address``, after checking that it answers ``view()``.

    @param container An ape contract container, e.g. ``project.Vault``.
    @param view A view function only that kind of contract has, e.g. ``"get_assets"``.
    @param kind What the contract should be, for the message, e.g. ``"a Ballast vault"``.
    """
    require_code(address, what, provider)
    instance = container.at(address)
    try:
        getattr(instance, view)()
    except Exception:  # a revert, or data that does not decode: not that kind of contract
        raise InputError(f"{what}: {address} is not {kind} (its {view}() call failed)") from None
    return instance


def require_role(vault, account, role: int, what: str) -> None:
    """Check that ``account`` holds ``role`` (a ``ROLE_*`` bit) on ``vault``."""
    names = {ROLE_KEEPER: "keeper", ROLE_GUARDIAN: "guardian"}
    if int(vault.roles(account)) & role == 0:
        raise InputError(
            f"{what}: {account} does not hold the {names.get(role, role)} role on vault {vault.address} "
            "(the owner grants it with set_role)"
        )


def require_allowed_venue(vault, venue: str, what: str) -> None:
    """Check that ``vault`` lets the keeper trade on ``venue`` (its owner's ``set_venue``)."""
    if not vault.venue_allowed(venue):
        raise InputError(f"{what}: venue {venue} is not allowed by vault {vault.address} (see set_venue)")


def require_vault(address: str, what: str, project, provider):
    """The :class:`Vault` instance at ``address``, after checking that it is a Ballast vault."""
    vault = require_instance(address, what, provider, project.Vault, "get_assets", "a Ballast vault")
    count = len(vault.get_assets())
    if not 2 <= count <= MAX_ASSETS:
        raise InputError(f"{what}: {address} is not a Ballast vault (it holds {count} assets)")
    return vault


# Ballast's venue adapters, each told apart by views only it has (probed in this order; every
# view must answer, so a contract that happens to answer one selector is not mistaken for it).
VENUE_KINDS = (
    ("BalancerV2Venue", ("pool_id", "pool_tokens")),
    ("UniswapV3Venue", ("fee", "pool_init_code_hash")),
    ("UniswapV2Venue", ("pair_init_code_hash", "factory")),
    ("ConstantProductAMM", ("MAX_FEE_BPS", "fee_bps")),
)


def require_venue(address: str, what: str, project, provider):
    """The venue adapter at ``address`` (Balancer V2, Uniswap V3, Uniswap V2 or the AMM double),
    as an instance of its own contract, after checking which one it is."""
    require_code(address, what, provider)
    from ape.contracts import ContractInstance

    for name, views in VENUE_KINDS:
        # A bare instance: ``container.at`` would cache this ABI for the address, and ape merges
        # the ABIs cached for one address, so the probes would leave a union of all four.
        instance = ContractInstance(address, getattr(project, name).contract_type)
        try:
            for view in views:
                getattr(instance, view)()
        except Exception:  # a revert, or data that does not decode: not this kind
            continue
        return instance
    probes = ", ".join(f"{views[0]}()" for _, views in VENUE_KINDS)
    raise InputError(f"{what}: {address} is not a Ballast venue (none of {probes} answered)")


def require_feed(address: str, what: str, project, provider):
    """A price feed (AggregatorV3 ``latestRoundData``) instance at ``address``."""
    return require_instance(address, what, provider, project.MockPriceFeed, "latestRoundData", "a price feed")


def require_lens(address: str, what: str, project, provider):
    """A ``VaultLens`` instance at ``address`` (it answers ``max_assets``)."""
    return require_instance(address, what, provider, project.VaultLens, "max_assets", "a VaultLens")


def require_factory(address: str, what: str, project, provider):
    """A ``VaultFactory`` instance at ``address`` (it answers ``VAULT_BLUEPRINT``)."""
    return require_instance(address, what, provider, project.VaultFactory, "VAULT_BLUEPRINT", "a VaultFactory")
