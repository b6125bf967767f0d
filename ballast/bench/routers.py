"""Each venue's own router, as a user trades it from an EOA: the reference a vault rebalance is
measured against (the same swaps, the same amounts, the same pools, from the same chain state).

* Uniswap V2: ``UniswapV2Router02.swapExactTokensForTokens`` (``@uniswap/v2-periphery@1.1.0-beta.0``);
* Uniswap V3: ``SwapRouter.exactInputSingle`` (``@uniswap/v3-periphery@1.4.4``);
* Balancer V2: ``Vault.swap``, GIVEN_IN, on the weighted pool (the Vault is Balancer's router).

The EOA holds both tokens of every swap and has a standing maximal approval of the router, as a
real user has, so no swap pays an approval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ballast.chain import artifacts
from ballast.venues import balancer_v2, uniswap_v3

V2_PERIPHERY = "@uniswap/v2-periphery"
DEADLINE = 2**40  # far past any local chain's clock
NO_WETH = uniswap_v3.NO_WETH9  # no ETH path is used: any address stands for WETH


@dataclass
class Router:
    """A venue's own router: ``swap(trade, eoa)`` sends one planned trade from ``eoa``."""

    name: str  # what the EOA calls, for the tables
    contract: object  # what the EOA approves and calls
    swap: Callable


def deploy_router(kind: str, venue, fee_bps: int, sender) -> Router:
    """The router of the venue behind the Ballast adapter ``venue`` of ``kind``, over the same
    factory (Uniswap) or Vault (Balancer)."""
    if kind == "uniswap_v2":
        container = artifacts.container(V2_PERIPHERY, "build/UniswapV2Router02.json")
        router = container.deploy(venue.factory(), NO_WETH, sender=sender)

        def swap(trade, eoa):
            path = [trade.token_in, trade.token_out]
            return router.swapExactTokensForTokens(
                trade.amount_in, trade.min_amount_out, path, eoa, DEADLINE, sender=eoa
            )

        return Router("UniswapV2Router02.swapExactTokensForTokens", router, swap)
    if kind == "uniswap_v3":
        router = uniswap_v3.container("SwapRouter").deploy(venue.factory(), NO_WETH, sender=sender)
        fee = fee_bps * 100

        def swap(trade, eoa):
            params = (
                trade.token_in,
                trade.token_out,
                fee,
                str(eoa),
                DEADLINE,
                trade.amount_in,
                trade.min_amount_out,
                0,
            )
            return router.exactInputSingle(params, sender=eoa)

        return Router("SwapRouter.exactInputSingle", router, swap)
    if kind == "balancer":
        vault = balancer_v2.container("Vault").at(venue.vault())
        pool_id = venue.pool_id()

        def swap(trade, eoa):
            single = balancer_v2.single_swap(pool_id, trade.token_in, trade.token_out, trade.amount_in)
            return vault.swap(single, balancer_v2.funds(eoa, eoa), trade.min_amount_out, DEADLINE, sender=eoa)

        return Router("Vault.swap (Balancer)", vault, swap)
    raise ValueError(f"no router for venue kind {kind!r}")
