"""Uniswap V2 on a local chain: the factory and pairs of ``@uniswap/v2-core@1.0.1``, and
Ballast's adapter over them (``contracts/venues/UniswapV2Venue.vy``)."""

from __future__ import annotations

from functools import cache

from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from ballast.chain import artifacts

PACKAGE = "@uniswap/v2-core"


def container(name: str):
    """An ape contract container for ``UniswapV2Factory``, ``UniswapV2Pair`` or ``ERC20``."""
    return artifacts.container(PACKAGE, f"build/{name}.json")


def artifact(name: str) -> artifacts.Artifact:
    """The npm artifact (ABI and bytecode) of ``UniswapV2Factory``, ``UniswapV2Pair`` or ``ERC20``."""
    return artifacts.load(PACKAGE, f"build/{name}.json")


@cache
def pair_init_code_hash() -> bytes:
    """keccak256 of the pair's creation code: what CREATE2 pair addresses are derived from.

    Equal to the constant in ``@uniswap/v2-periphery``'s ``UniswapV2Library.pairFor``, so the
    mainnet factory's pairs are derived with it too (``tests/unit/test_spec_validation.py``).
    """
    code = artifacts.contract_type(PACKAGE, "build/UniswapV2Pair.json").deployment_bytecode.bytecode
    return keccak(bytes.fromhex(code.removeprefix("0x")))


def pair_address(factory: str, token_a: str, token_b: str) -> str:
    """The CREATE2 address of ``factory``'s (token_a, token_b) pair, as the adapter derives it
    (it may hold no contract); checksummed."""
    token0, token1 = sorted((to_checksum_address(token_a), to_checksum_address(token_b)), key=lambda a: int(a, 16))
    salt = keccak(bytes.fromhex(token0[2:]) + bytes.fromhex(token1[2:]))
    digest = keccak(b"\xff" + bytes.fromhex(to_checksum_address(factory)[2:]) + salt + pair_init_code_hash())
    return to_checksum_address(digest[12:])


def deploy_adapter(project, factory: str, sender):
    """Ballast's adapter over the pairs of the Uniswap V2 factory at ``factory`` (an existing one,
    e.g. mainnet's: nothing else is deployed)."""
    return project.UniswapV2Venue.deploy(factory, pair_init_code_hash(), sender=sender)


def deploy_venue(project, sender):
    """A fresh factory (``sender`` sets its fee recipient) and the Ballast adapter over its pairs."""
    factory = container("UniswapV2Factory").deploy(sender.address, sender=sender)
    return factory, deploy_adapter(project, factory.address, sender)


def add_liquidity(factory, token_a, token_b, amount_a: int, amount_b: int, provider, sender=None):
    """Create the (token_a, token_b) pair if needed and deposit ``provider``'s amounts into it.

    ``provider`` must hold both amounts; the pair mints its LP tokens to ``provider``.
    """
    pair_address = factory.getPair(token_a, token_b)
    if int(pair_address, 16) == 0:
        factory.createPair(token_a, token_b, sender=sender or provider)
        pair_address = factory.getPair(token_a, token_b)
    token_a.transfer(pair_address, amount_a, sender=provider)
    token_b.transfer(pair_address, amount_b, sender=provider)
    pair = container("UniswapV2Pair").at(pair_address)
    pair.mint(provider.address, sender=provider)
    return pair
