"""Set Protocol v2 on a local chain, from ``@setprotocol/set-protocol-v2@0.1.16``'s artifacts.

The system an index manager runs (Controller, IntegrationRegistry, SetTokenCreator,
BasicIssuanceModule, GeneralIndexModule with its UniswapV2IndexExchangeAdapter over a
``UniswapV2Router02``), a SetToken over a basket, issuance and redemption, and a rebalance the
way the GeneralIndexModule's own flow makes it: ``startRebalance`` with the new target units, then
one ``trade`` per component against WETH (sells first, so the buys have WETH to spend). No
``tradeRemainingWETH`` is sent: after the trades WETH is within 50 bps of its target unit (the race
checks every component's, WETH's included).
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.chain import artifacts
from ballast.venues import amm

PACKAGE = "@setprotocol/set-protocol-v2"
EXCHANGE = "UniswapV2IndexExchangeAdapter"  # the name the module's trades look the adapter up by
PRECISE_UNIT = 10**18  # Set's 18-decimal fixed point: units are per 1e18 of SetToken
_PATHS = {
    "Controller": "protocol/Controller.sol",
    "IntegrationRegistry": "protocol/IntegrationRegistry.sol",
    "SetTokenCreator": "protocol/SetTokenCreator.sol",
    "SetToken": "protocol/SetToken.sol",
    "BasicIssuanceModule": "protocol/modules/BasicIssuanceModule.sol",
    "GeneralIndexModule": "protocol/modules/GeneralIndexModule.sol",
    "UniswapV2IndexExchangeAdapter": "protocol/integration/index-exchange/UniswapV2IndexExchangeAdapter.sol",
}


def container(name: str):
    """An ape contract container for one of Set's contracts (``_PATHS``' keys)."""
    return artifacts.container(PACKAGE, f"artifacts/contracts/{_PATHS[name]}/{name}.json")


def router_container():
    """Uniswap's ``UniswapV2Router02`` (``@uniswap/v2-periphery``): what Set's V2 adapter calls."""
    return artifacts.container("@uniswap/v2-periphery", "build/UniswapV2Router02.json")


@dataclass
class SetSystem:
    controller: object
    registry: object
    creator: object
    issuance: object
    index_module: object
    adapter: object
    router: object
    weth: object


def deploy_system(sender, v2_factory, weth) -> SetSystem:
    """Set's core, its issuance and index modules and its Uniswap V2 adapter, wired as Set's own
    deployment scripts wire them; ``sender`` owns the controller. ``weth`` is the token the index
    module trades every component against (the basket's WETH; no ether path is used)."""
    controller = container("Controller").deploy(sender.address, sender=sender)
    registry = container("IntegrationRegistry").deploy(controller.address, sender=sender)
    creator = container("SetTokenCreator").deploy(controller.address, sender=sender)
    issuance = container("BasicIssuanceModule").deploy(controller.address, sender=sender)
    index_module = container("GeneralIndexModule").deploy(controller.address, weth.address, sender=sender)
    router = router_container().deploy(v2_factory.address, weth.address, sender=sender)
    adapter = container(EXCHANGE).deploy(router.address, sender=sender)
    # Resource id 0 is the integration registry, where modules look their adapters up.
    controller.initialize(
        [creator.address], [issuance.address, index_module.address], [registry.address], [0], sender=sender
    )
    registry.addIntegration(index_module.address, EXCHANGE, adapter.address, sender=sender)
    return SetSystem(controller, registry, creator, issuance, index_module, adapter, router, weth)


def create_set(system: SetSystem, components: list, units: list[int], manager, name="Set Index", symbol="SETIDX"):
    """A SetToken over ``components`` at ``units`` (base units per 1e18 SetToken), with both
    modules initialised and the index module set to trade each component on Uniswap V2 in one
    trade (no trade maximum short of the whole position, no cool-off), by ``manager`` only."""
    modules = [system.issuance.address, system.index_module.address]
    tx = system.creator.create(
        [c.address for c in components], units, modules, manager.address, name, symbol, sender=manager
    )
    set_token = container("SetToken").at(tx.events.filter(system.creator.SetTokenCreated)[0]._setToken)
    system.issuance.initialize(set_token.address, "0x" + "00" * 20, sender=manager)
    system.index_module.initialize(set_token.address, sender=manager)
    others = [c.address for c in components if c.address != system.weth.address]
    system.index_module.setTradeMaximums(set_token.address, others, [2**255] * len(others), sender=manager)
    system.index_module.setExchanges(set_token.address, others, [EXCHANGE] * len(others), sender=manager)
    system.index_module.setTraderStatus(set_token.address, [manager.address], [True], sender=manager)
    return set_token


def units_for(values_usd: list[float], prices: list[float], decimals: list[int], set_price_usd: float) -> list[int]:
    """Component units (base units per 1e18 SetToken) of a SetToken worth ``set_price_usd`` whose
    value splits as ``values_usd`` (fractions summing to 1) at ``prices``."""
    return [int(set_price_usd * w / p * 10**d) for w, p, d in zip(values_usd, prices, decimals)]


def issue(system: SetSystem, set_token, quantity: int, account, tokens: list, receiver=None):
    """Issue ``quantity`` of ``set_token`` to ``receiver`` (default ``account``), which pays every
    component (``tokens``: ERC-20 instances of the components; each approved here for what the
    module pulls, rounded up as Set rounds it)."""
    by_address = {str(t.address).lower(): t for t in tokens}
    for address in set_token.getComponents():
        unit = int(set_token.getDefaultPositionRealUnit(address))
        amount = -(-unit * quantity // PRECISE_UNIT)
        by_address[str(address).lower()].approve(system.issuance.address, amount, sender=account)
    return system.issuance.issue(set_token.address, quantity, (receiver or account).address, sender=account)


def redeem(system: SetSystem, set_token, quantity: int, account, receiver=None):
    """Redeem ``quantity`` of ``account``'s ``set_token`` for its components, to ``receiver``."""
    return system.issuance.redeem(set_token.address, quantity, (receiver or account).address, sender=account)


@dataclass
class SetRebalance:
    receipts: list  # startRebalance, then every trade, in order
    trades: int

    @property
    def gas(self) -> int:
        return sum(int(r.gas_used) for r in self.receipts)

    @property
    def trade_gas(self) -> int:
        return sum(int(r.gas_used) for r in self.receipts[1:])


def rebalance(
    system: SetSystem,
    set_token,
    target_units: list[int],
    manager,
    v2_factory,
    slippage_bps: int = 50,
    attacker=None,
    before_each=None,
) -> SetRebalance:
    """Move ``set_token`` to ``target_units`` (in ``getComponents()`` order) the module's way.

    Each ``trade`` carries the limit its caller would set: the Uniswap V2 quote of the module's
    trade size less (sells: minimum WETH received) or plus (buys: maximum WETH spent)
    ``slippage_bps``. Sells go first so the buys have WETH.

    With ``attacker`` (a :class:`ballast.peers.sandwich.Attacker`), each ``trade`` is sandwiched:
    the caller's limit is set from the pair as it is before the attacker moves it, the attacker
    sees it and front-runs, the trade lands, the attacker back-runs. ``before_each`` (no
    arguments) is called before each of the module's transactions (the race: the next block 12 s on).
    """
    before_each = before_each or (lambda: None)
    module = system.index_module
    components = [str(a) for a in set_token.getComponents()]
    multiplier = int(set_token.positionMultiplier())
    before_each()
    receipts = [module.startRebalance(set_token.address, [], [], target_units, multiplier, sender=manager)]
    supply = int(set_token.totalSupply())
    weth = system.weth.address
    gaps = {}
    for address, target in zip(components, target_units):
        if address == weth:
            continue
        current = int(set_token.getDefaultPositionRealUnit(address))
        gaps[address] = (current - target) * supply // PRECISE_UNIT  # > 0: sell that much
    order = sorted(gaps, key=lambda a: gaps[a] <= 0)  # sells first
    for address in order:
        gap = gaps[address]
        if gap == 0:
            continue
        pair = _reserves(v2_factory, address, weth)
        if gap > 0:  # sell exactly `gap` of the component for at least the quote less slippage
            quote = amm.amount_out(gap, pair[0], pair[1], 30)
            limit = quote * (10_000 - slippage_bps) // 10_000
        else:  # buy exactly `-gap` for at most the quote plus slippage
            quote = v2_amount_in(-gap, pair[1], pair[0])
            limit = quote * (10_000 + slippage_bps) // 10_000
        sandwich = None
        if attacker is not None:
            sold, bought = (address, weth) if gap > 0 else (weth, address)
            sandwich = attacker.plan("Set v2", sold, bought, abs(gap), limit, exact_output=gap < 0)
            attacker.front_run(sandwich)
        before_each()
        receipts.append(module.trade(set_token.address, address, limit, sender=manager))
        if sandwich is not None:
            attacker.back_run(sandwich)
    return SetRebalance(receipts, len(receipts) - 1)


def v2_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """Uniswap V2's ``getAmountIn`` (30 bps, rounded up): what ``swapTokensForExactTokens`` spends."""
    if amount_out >= reserve_out:
        raise ArithmeticError("the pair cannot pay that much")
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


def _reserves(v2_factory, token, other) -> tuple[int, int]:
    """The (token, other) pair's reserves, in that order."""
    from ballast.venues import uniswap_v2

    pair = uniswap_v2.container("UniswapV2Pair").at(v2_factory.getPair(token, other))
    r0, r1, _ = pair.getReserves()
    return (int(r0), int(r1)) if str(pair.token0()).lower() == str(token).lower() else (int(r1), int(r0))
