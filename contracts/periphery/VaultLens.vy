# pragma version 0.4.3
"""
@title Ballast vault lens
@custom:contract-name VaultLens
@notice Everything a keeper, a dashboard or a test reads of a vault, in one
        `eth_call` at one block: per asset its balance, oracle price, target,
        bands and volatility estimate; the trigger, limits and turnover; and
        the vault's own `needs_rebalance()` answer. Stateless and read-only:
        one lens serves every vault. Curve's twocrypto-ng views contract is
        the example.
@dev Reads only the vault's external views, so it sees what they see: a
     stale or out-of-bounds price makes `snapshot` revert with the vault's
     reason, as `vault.price` would.
"""

from ethereum.ercs import IERC20Detailed
from contracts.modules import constants

interface IBallastVault:
    def get_assets() -> DynArray[address, constants.MAX_ASSETS]: view
    def target_weights() -> DynArray[uint256, constants.MAX_ASSETS]: view
    def asset_config(asset: address) -> (uint256, uint256, uint256): view
    def balances(asset: address) -> uint256: view
    def price(asset: address) -> uint256: view
    def variance(asset: address) -> uint256: view
    def totalSupply() -> uint256: view
    def trigger_type() -> uint256: view
    def rebalance_interval() -> uint256: view
    def last_rebalance() -> uint256: view
    def vol_reference() -> uint256: view
    def cooldown() -> uint256: view
    def max_slippage_bps() -> uint256: view
    def max_cost_bps() -> uint256: view
    def turnover_cap_bps() -> uint256: view
    def turnover_period() -> uint256: view
    def turnover_period_start() -> uint256: view
    def turnover_used() -> uint256: view
    def needs_rebalance() -> (bool, String[16]): view

# The most assets a vault holds, and so the lens reads (also what tells a lens apart: see checks.py).
max_assets: public(constant(uint256)) = constants.MAX_ASSETS


struct AssetView:
    asset: address
    # Empty when the token's `symbol()` is not an ABI string of at most 32 bytes.
    symbol: String[32]
    decimals: uint256
    balance: uint256
    price: uint256
    target: uint256
    band_bps: uint256
    outer_band_bps: uint256
    variance: uint256


struct VaultView:
    assets: DynArray[AssetView, constants.MAX_ASSETS]
    total_supply: uint256
    trigger_type: uint256
    rebalance_interval: uint256
    last_rebalance: uint256
    vol_reference: uint256
    cooldown: uint256
    max_slippage_bps: uint256
    max_cost_bps: uint256
    turnover_cap_bps: uint256
    turnover_period: uint256
    turnover_period_start: uint256
    turnover_used: uint256
    due: bool
    reason: String[16]
    block_number: uint256
    timestamp: uint256


@view
@external
def snapshot(vault: address) -> VaultView:
    """
    @notice The state of `vault` at this block, in one call.
    @param vault A Ballast vault.
    @return VaultView Its assets, trigger, limits, turnover and whether a
            rebalance is due (with the trigger's reason).
    """
    v: IBallastVault = IBallastVault(vault)
    assets: DynArray[address, constants.MAX_ASSETS] = staticcall v.get_assets()
    targets: DynArray[uint256, constants.MAX_ASSETS] = staticcall v.target_weights()
    views: DynArray[AssetView, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(assets), bound=constants.MAX_ASSETS):
        asset: address = assets[i]
        unused: uint256 = 0
        band: uint256 = 0
        outer: uint256 = 0
        unused, band, outer = staticcall v.asset_config(asset)
        views.append(
            AssetView(
                asset=asset,
                symbol=self._symbol(asset),
                decimals=convert(staticcall IERC20Detailed(asset).decimals(), uint256),
                balance=staticcall v.balances(asset),
                price=staticcall v.price(asset),
                target=targets[i],
                band_bps=band,
                outer_band_bps=outer,
                variance=staticcall v.variance(asset),
            )
        )
    due: bool = False
    reason: String[16] = ""
    due, reason = staticcall v.needs_rebalance()
    return VaultView(
        assets=views,
        total_supply=staticcall v.totalSupply(),
        trigger_type=staticcall v.trigger_type(),
        rebalance_interval=staticcall v.rebalance_interval(),
        last_rebalance=staticcall v.last_rebalance(),
        vol_reference=staticcall v.vol_reference(),
        cooldown=staticcall v.cooldown(),
        max_slippage_bps=staticcall v.max_slippage_bps(),
        max_cost_bps=staticcall v.max_cost_bps(),
        turnover_cap_bps=staticcall v.turnover_cap_bps(),
        turnover_period=staticcall v.turnover_period(),
        turnover_period_start=staticcall v.turnover_period_start(),
        turnover_used=staticcall v.turnover_used(),
        due=due,
        reason=reason,
        block_number=block.number,
        timestamp=block.timestamp,
    )


@view
@external
def token_symbol(token: address) -> String[32]:
    """
    @notice `token`'s symbol if it is an ABI string of at most 32 bytes, else
            empty: some tokens return bytes32 (MKR), long names, or nothing.
    @param token An ERC-20.
    @return String[32] The symbol, or an empty string.
    """
    return self._symbol(token)


@view
@internal
def _symbol(token: address) -> String[32]:
    ok: bool = False
    response: Bytes[96] = b""
    ok, response = raw_call(
        token, method_id("symbol()"), max_outsize=96, is_static_call=True, revert_on_failure=False
    )
    if not ok or len(response) != 96:
        return ""
    if extract32(response, 0, output_type=uint256) != 32 or extract32(response, 32, output_type=uint256) > 32:
        return ""
    return abi_decode(response, String[32])
