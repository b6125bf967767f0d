"""Which vault a depositor command talks to, checked before anything is read or sent.

:func:`resolve` takes the addresses given on the command line, falling back on the deployment
record (``deployments/<network>.json``, written by ``ape run deploy`` and ``ape run node start``),
and refuses, with one sentence naming the problem: a record made on another chain (wrong network),
an address with no code, a contract that is not a Ballast vault (no ``raw_state()``, or not made
by the factory), a missing or wrong lens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ballast.chain.deploy import read_deployments
from ballast.chain.erc20 import token_at
from ballast.checks import InputError, require_code, require_factory, require_instance, require_lens

DEPLOYMENTS = Path("deployments")


@dataclass
class Target:
    """A checked vault: its lens, its factory (when known) and its basket tokens, in order."""

    vault: object
    lens: object
    factory: object | None
    tokens: list  # ERC-20 instances (standard ABI), in the vault's asset order
    symbols: list[str]
    decimals: list[int]
    network: str
    chain_id: int

    def index(self, asset: str) -> int:
        """The basket position of ``asset``, given as an address or a symbol (case-insensitive)."""
        key = str(asset).lower()
        for i, (token, symbol) in enumerate(zip(self.tokens, self.symbols)):
            if key in (str(token.address).lower(), symbol.lower()):
                return i
        raise InputError(f"--asset: {asset!r} is not one of the vault's assets ({', '.join(self.symbols)})")


def deployment_record(provider, folder: str | Path = DEPLOYMENTS) -> tuple[dict, Path]:
    """This network's entry of the deployment record (``{}`` when none) and the record's path.

    Refuses a record made on another chain: ``deployments/local.json`` is shared by every local
    network (ape's test chain, anvil), so its ``chain_id`` tells them apart.
    """
    path = Path(folder) / f"{provider.network.name}.json"
    entry = read_deployments(path).get(provider.network.name, {})
    recorded = entry.get("chain_id")
    if recorded is not None and int(recorded) != int(provider.chain_id):
        raise InputError(
            f"--network: {path} was recorded on chain id {recorded}, but {provider.network_choice} is chain id "
            f"{provider.chain_id}: wrong network (for the persistent node: make node, then --network "
            "ethereum:local:foundry)"
        )
    return entry, path


def require_ballast_vault(address: str, what: str, project, provider, factory=None):
    """The ``Vault`` at ``address``, after checking that it is one: code, ``raw_state()``, and,
    when ``factory`` is given, ``factory.is_vault(address)``."""
    vault = require_instance(address, what, provider, project.Vault, "raw_state", "a Ballast vault")
    if factory is not None and not factory.is_vault(address):
        raise InputError(
            f"{what}: {address} is not a Ballast vault: the VaultFactory at {factory.address} did not create it"
        )
    return vault


def resolve(
    project,
    provider,
    vault_address: str | None = None,
    lens_address: str | None = None,
    factory_address: str | None = None,
    folder: str | Path = DEPLOYMENTS,
) -> Target:
    """The checked :class:`Target`: each address from the option, else from the record.

    @param vault_address ``--vault``; default the record's ``vault``.
    @param lens_address ``--lens``; default the record's ``lens``.
    @param factory_address ``--factory``; default the record's ``factory`` (no registry check without one).
    """
    entry, path = deployment_record(provider, folder)
    origin = {}
    for name, given in (("vault", vault_address), ("lens", lens_address), ("factory", factory_address)):
        origin[name] = given or entry.get(name)
    if origin["vault"] is None:
        raise InputError(f"--vault: no vault given, and {path} records none for {provider.network.name}")
    if origin["lens"] is None:
        raise InputError(f"--lens: no VaultLens given, and {path} records none for {provider.network.name}")
    hint = "" if vault_address else f" (recorded in {path}: is its chain still running?)"
    try:
        require_code(origin["vault"], "--vault", provider)
    except InputError as err:
        raise InputError(f"{err}{hint}") from None
    factory = origin["factory"] and require_factory(origin["factory"], "--factory", project, provider)
    vault = require_ballast_vault(origin["vault"], "--vault", project, provider, factory or None)
    lens = require_lens(origin["lens"], "--lens", project, provider)
    tokens = [token_at(a) for a in vault.get_assets()]
    symbols = [str(lens.token_symbol(t.address)) or str(t.address)[:8] for t in tokens]
    return Target(
        vault=vault,
        lens=lens,
        factory=factory or None,
        tokens=tokens,
        symbols=symbols,
        decimals=[int(t.decimals()) for t in tokens],
        network=provider.network_choice,
        chain_id=int(provider.chain_id),
    )
