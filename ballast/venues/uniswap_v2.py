"""Uniswap V2 on a local chain: the factory and pairs of ``@uniswap/v2-core@1.0.1``, and
Ballast's adapter over them (``contracts/venues/UniswapV2Venue.vy``)."""

from __future__ import annotations

from eth_hash.auto import keccak

from ballast.chain import artifacts

PACKAGE = "@uniswap/v2-core"


def container(name: str):
    """An ape contract container for ``UniswapV2Factory``, ``UniswapV2Pair`` or ``ERC20``."""
    return artifacts.container(PACKAGE, f"build/{name}.json")


def artifact(name: str) -> artifacts.Artifact:
    """The npm artifact (ABI and bytecode) of ``UniswapV2Factory``, ``UniswapV2Pair`` or ``ERC20``."""
    return artifacts.load(PACKAGE, f"build/{name}.json")


def pair_init_code_hash() -> bytes:
    """keccak256 of the pair's creation code: what CREATE2 pair addresses are derived from."""
    return keccak(bytes.fromhex(artifact("UniswapV2Pair").bytecode.removeprefix("0x")))


def deploy_venue(project, sender):
    """A fresh factory (``sender`` sets its fee recipient) and the Ballast adapter over its pairs."""
    factory = container("UniswapV2Factory").deploy(sender.address, sender=sender)
    venue = project.UniswapV2Venue.deploy(factory.address, pair_init_code_hash(), sender=sender)
    return factory, venue


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
