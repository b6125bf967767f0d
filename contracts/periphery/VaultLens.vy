# pragma version 0.4.3
# pragma optimize codesize
"""
@title Ballast vault lens
@custom:contract-name VaultLens
@notice Every derived view and preview of a Ballast vault, and everything a
        keeper or a dashboard reads of it in one `eth_call` (`snapshot`).
        The vault keeps only what its own entry points need, and one locked
        raw-state getter; this lens decodes that state and applies the
        vault's own `rules` to it, so a view here is what the vault
        enforces. Stateless and read-only: one lens serves every vault.
        Curve's twocrypto-ng views contract is the example.
@dev Prices come from the vault's `price(asset)`, so a stale or
     out-of-bounds feed makes a priced view revert with the vault's reason,
     as the vault's entries would. Unpriced views (`preview_join`,
     `preview_exit`, the limits and clocks) never read a feed.
"""

from interfaces import IVault
from interfaces import ISleeve
from contracts.modules import constants
from contracts.modules import packing
from contracts.modules import rules

# The most assets a vault holds, and so the lens reads (also what tells a lens apart: see checks.py).
max_assets: public(constant(uint256)) = constants.MAX_ASSETS


struct AssetView:
    asset: address
    # Empty when the token's `symbol()` is not an ABI string of at most 32 bytes.
    symbol: String[32]
    decimals: uint256
    # Idle plus lent, as the vault's rules count it.
    balance: uint256
    lent: uint256
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
    turnover_spent_at: uint256
    turnover_used: uint256
    due: bool
    reason: String[16]
    block_number: uint256
    timestamp: uint256


# ---------------------------------------------------------------- one call


@view
@external
def snapshot(vault: address) -> VaultView:
    """
    @notice The state of `vault` at this block, in one call.
    @param vault A Ballast vault.
    @return VaultView Its assets, trigger, limits, turnover and whether a
            rebalance is due (with the trigger's reason).
    """
    state: IVault.VaultState = staticcall IVault(vault).raw_state()
    lent: DynArray[uint256, constants.MAX_ASSETS] = self._lent(vault, state, False)
    state = self._with_lent(state, lent)
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices(vault, state)
    targets: DynArray[uint256, constants.MAX_ASSETS] = self._targets(state)
    value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    value, weights = self._weights(state, prices)
    views: DynArray[AssetView, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(state.assets), bound=constants.MAX_ASSETS):
        a: IVault.AssetState = state.assets[i]
        views.append(
            AssetView(
                asset=a.asset,
                symbol=self._symbol(a.asset),
                decimals=packing._unpack(a.feed_config, packing.TOKEN_DECIMALS_AT, packing.DECIMALS_BITS),
                balance=a.balance,
                lent=lent[i],
                price=prices[i],
                target=targets[i],
                band_bps=packing._unpack(a.feed_config, packing.BAND_AT, packing.BPS_BITS),
                outer_band_bps=packing._unpack(a.feed_config, packing.OUTER_BAND_AT, packing.BPS_BITS),
                variance=packing._unpack(a.observation, packing.VARIANCE_AT, packing.VARIANCE_BITS),
            )
        )
    due: bool = False
    reason: String[16] = ""
    due, reason = self._needs_rebalance(state, prices)
    return VaultView(
        assets=views,
        total_supply=state.total_supply,
        trigger_type=packing._unpack(state.trigger, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS),
        rebalance_interval=packing._unpack(state.trigger, packing.INTERVAL_AT, packing.INTERVAL_BITS),
        last_rebalance=packing._unpack(state.clock, packing.LAST_REBALANCE_AT, packing.TIME_BITS),
        vol_reference=packing._unpack(state.trigger, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS),
        cooldown=packing._unpack(state.status, packing.COOLDOWN_AT, packing.DURATION_BITS),
        max_slippage_bps=packing._unpack(state.status, packing.SLIPPAGE_AT, packing.BPS_BITS),
        max_cost_bps=packing._unpack(state.status, packing.COST_AT, packing.BPS_BITS),
        turnover_cap_bps=packing._unpack(state.status, packing.TURNOVER_CAP_AT, packing.TURNOVER_CAP_BITS),
        turnover_period=packing._unpack(state.status, packing.TURNOVER_PERIOD_AT, packing.DURATION_BITS),
        turnover_spent_at=packing._unpack(state.turnover, packing.SPENT_AT, packing.TIME_BITS),
        turnover_used=rules._turnover_used(state.turnover, state.status, value, block.timestamp),
        due=due,
        reason=reason,
        block_number=block.number,
        timestamp=block.timestamp,
    )


# ---------------------------------------------------------------- weights and the trigger


@view
@external
def total_value(vault: address) -> uint256:
    """
    @notice Oracle value of `vault`'s holdings (idle plus lent) in USD (WAD), rounded down.
    """
    state: IVault.VaultState = self._holdings(vault, False)
    total: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    total, weights = self._weights(state, self._prices(vault, state))
    return total


@view
@external
def target_weights(vault: address) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice `vault`'s effective target weights now (WAD, 1e18 = 100%), along any ramp.
    """
    return self._targets(staticcall IVault(vault).raw_state())


@view
@external
def current_weights(vault: address) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Oracle-valued weights of `vault`'s holdings (WAD), rounded down.
    """
    state: IVault.VaultState = self._holdings(vault, False)
    total: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    total, weights = self._weights(state, self._prices(vault, state))
    return weights


@view
@external
def drifts(vault: address) -> DynArray[int256, constants.MAX_ASSETS]:
    """
    @notice Current weight minus target weight of every asset of `vault` (WAD, signed).
    """
    state: IVault.VaultState = self._holdings(vault, False)
    return self._drifts(state, self._prices(vault, state))


@view
@external
def max_drift(vault: address) -> uint256:
    """
    @notice Largest |drift| across `vault`'s basket (WAD).
    """
    state: IVault.VaultState = self._holdings(vault, False)
    largest: uint256 = 0
    drifts: DynArray[int256, constants.MAX_ASSETS] = self._drifts(state, self._prices(vault, state))
    for drift: int256 in drifts:
        largest = max(largest, convert(abs(drift), uint256))
    return largest


@view
@external
def needs_rebalance(vault: address) -> (bool, String[16]):
    """
    @notice Whether `vault`'s trigger holds now, and why: "calendar",
            "threshold", "outer band", "hybrid" or "" when not due. False
            while paused, shut down or empty. The vault's `rebalance`
            applies the same rule.
    """
    state: IVault.VaultState = self._holdings(vault, False)
    return self._needs_rebalance(state, self._prices(vault, state))


@view
@external
def asset_config(vault: address, asset: address) -> (uint256, uint256, uint256):
    """
    @notice Final target weight, band and outer band of `asset` in `vault`, in bps.
    """
    config: uint256 = self._asset(staticcall IVault(vault).raw_state(), asset).feed_config
    return (
        packing._unpack(config, packing.TARGET_AT, packing.BPS_BITS),
        packing._unpack(config, packing.BAND_AT, packing.BPS_BITS),
        packing._unpack(config, packing.OUTER_BAND_AT, packing.BPS_BITS),
    )


@view
@external
def vol_scale_bps(vault: address, asset: address) -> uint256:
    """
    @notice Hybrid band multiplier of `asset` in `vault` from its volatility estimate, bps.
    """
    state: IVault.VaultState = staticcall IVault(vault).raw_state()
    return rules._vol_scale_bps(self._asset(state, asset).observation, state.trigger)


@view
@external
def observed_price(vault: address, asset: address) -> uint256:
    """
    @notice Price (WAD) of `asset` at `vault`'s last volatility observation.
    """
    return packing._observed_price(self._asset(staticcall IVault(vault).raw_state(), asset).observation)


@view
@external
def variance(vault: address, asset: address) -> uint256:
    """
    @notice `vault`'s EWMA of the annualised variance (WAD) of `asset`'s returns.
    """
    observation: uint256 = self._asset(staticcall IVault(vault).raw_state(), asset).observation
    return packing._unpack(observation, packing.VARIANCE_AT, packing.VARIANCE_BITS)


# ---------------------------------------------------------------- previews


@view
@external
def preview_join(vault: address, shares: uint256) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Amounts `vault.join(shares, ...)` would take now (rounded up).
            Zero for an empty vault, whose first join sets its own amounts.
    """
    state: IVault.VaultState = self._holdings(vault, True)
    if state.total_supply == 0:
        return rules._exit_amounts(0, self._balances(state), 0)  # one zero per asset
    return rules._join_amounts(shares, self._balances(state), state.total_supply)


@view
@external
def preview_deposit(vault: address, asset: address, amount: uint256) -> uint256:
    """
    @notice Shares `vault.deposit(asset, amount, ...)` would mint now (rounded down).
    """
    state: IVault.VaultState = self._holdings(vault, True)
    config: uint256 = self._asset(state, asset).feed_config
    prices: DynArray[uint256, constants.MAX_ASSETS] = self._prices(vault, state)
    total: uint256 = 0
    price: uint256 = 0
    for i: uint256 in range(len(state.assets), bound=constants.MAX_ASSETS):
        a: IVault.AssetState = state.assets[i]
        total += rules._value(a.balance, prices[i], a.feed_config, True)
        if a.asset == asset:
            price = prices[i]
    usd_value: uint256 = rules._value(amount, price, config, False)
    return rules._deposit_shares(usd_value, total, self._entry_haircut(state), state.total_supply)


@view
@external
def preview_exit(vault: address, shares: uint256) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Idle amounts `vault.exit(shares, ...)` would send now (rounded
            down); the lent part is `preview_exit_lent`.
    """
    state: IVault.VaultState = staticcall IVault(vault).raw_state()
    return rules._exit_amounts(shares, self._balances(state), state.total_supply)


@view
@external
def preview_exit_lent(vault: address, shares: uint256) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice Market shares of each asset's lending market that an exit of
            `shares` takes from the sleeve now (rounded down): redeemed into
            the asset when the market can pay them, else delivered as they are.
    """
    state: IVault.VaultState = staticcall IVault(vault).raw_state()
    sleeve: address = staticcall IVault(vault).sleeve()
    held: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        if sleeve == empty(address):
            held.append(0)
        else:
            held.append(staticcall ISleeve(sleeve).market_shares(a.asset))
    return rules._exit_amounts(shares, held, state.total_supply)


@view
@external
def lent(vault: address) -> DynArray[uint256, constants.MAX_ASSETS]:
    """
    @notice What `vault` has lent of each asset (base units, the sleeve's
            guarded rate, rounded up); zeros without a sleeve.
    """
    return self._lent(vault, staticcall IVault(vault).raw_state(), False)


# ---------------------------------------------------------------- flags, limits, clocks


@view
@external
def paused(vault: address) -> bool:
    """
    @notice Whether `vault` is paused (joins, deposits and rebalances stop; exits do not).
    """
    return (staticcall IVault(vault).raw_state()).status & packing.PAUSED != 0


@view
@external
def is_shutdown(vault: address) -> bool:
    """
    @notice Whether `vault` is shut down for good (only exits remain).
    """
    return (staticcall IVault(vault).raw_state()).status & packing.SHUTDOWN != 0


@view
@external
def entry_haircut_bps(vault: address) -> uint256:
    """
    @notice Haircut on `vault`'s single-asset deposits, bps.
    """
    return self._status(vault, packing.HAIRCUT_AT, packing.BPS_BITS)


@view
@external
def current_entry_haircut_bps(vault: address) -> uint256:
    """
    @notice Haircut a single-asset deposit into `vault` pays now, bps: the
            floor (`entry_haircut_bps`), or its volatility-scaled value within
            [floor, cap] when a cap is set (`haircut_bounds`).
    """
    return self._entry_haircut(staticcall IVault(vault).raw_state())


@view
@external
def haircut_bounds(vault: address) -> (uint256, uint256, uint256):
    """
    @notice The volatility haircut's floor and cap (bps; a zero cap: the
            haircut is the floor) and horizon (seconds) of `vault`.
    """
    status: uint256 = (staticcall IVault(vault).raw_state()).status
    return (
        packing._unpack(status, packing.HAIRCUT_AT, packing.BPS_BITS),
        packing._unpack(status, packing.HAIRCUT_CAP_AT, packing.BPS_BITS),
        packing._unpack(status, packing.HORIZON_AT, packing.HORIZON_BITS),
    )


@view
@external
def max_slippage_bps(vault: address) -> uint256:
    """
    @notice Most a rebalancing trade of `vault` may lose against the oracle, bps.
    """
    return self._status(vault, packing.SLIPPAGE_AT, packing.BPS_BITS)


@view
@external
def max_cost_bps(vault: address) -> uint256:
    """
    @notice Most value one rebalance of `vault` may lose, bps of its value.
    """
    return self._status(vault, packing.COST_AT, packing.BPS_BITS)


@view
@external
def turnover_cap_bps(vault: address) -> uint256:
    """
    @notice Most value `vault` may trade per turnover period, bps of its value.
    """
    return self._status(vault, packing.TURNOVER_CAP_AT, packing.TURNOVER_CAP_BITS)


@view
@external
def turnover_period(vault: address) -> uint256:
    """
    @notice Length of `vault`'s turnover period, seconds.
    """
    return self._status(vault, packing.TURNOVER_PERIOD_AT, packing.DURATION_BITS)


@view
@external
def cooldown(vault: address) -> uint256:
    """
    @notice Shortest time between two rebalances of `vault`, seconds.
    """
    return self._status(vault, packing.COOLDOWN_AT, packing.DURATION_BITS)


@view
@external
def turnover_spent_at(vault: address) -> uint256:
    """
    @notice Time of `vault`'s last turnover spend (its deployment at first).
    """
    return packing._unpack((staticcall IVault(vault).raw_state()).turnover, packing.SPENT_AT, packing.TIME_BITS)


@view
@external
def turnover_used(vault: address) -> uint256:
    """
    @notice USD value (WAD) still counted against `vault`'s turnover cap now:
            what it traded, less the continuous refill since (`rules._turnover_used`).
    """
    state: IVault.VaultState = self._holdings(vault, False)
    value: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    value, weights = self._weights(state, self._prices(vault, state))
    return rules._turnover_used(state.turnover, state.status, value, block.timestamp)


@view
@external
def ramp_start(vault: address) -> uint256:
    """
    @notice Start (seconds) of `vault`'s current target-weight ramp.
    """
    return self._clock(vault, packing.RAMP_START_AT)


@view
@external
def ramp_end(vault: address) -> uint256:
    """
    @notice End (seconds) of `vault`'s current target-weight ramp.
    """
    return self._clock(vault, packing.RAMP_END_AT)


@view
@external
def last_rebalance(vault: address) -> uint256:
    """
    @notice Time of `vault`'s last accepted rebalance (its deployment at first).
    """
    return self._clock(vault, packing.LAST_REBALANCE_AT)


@view
@external
def last_observation(vault: address) -> uint256:
    """
    @notice Time of `vault`'s last volatility observation (0 before the first).
    """
    return self._clock(vault, packing.LAST_OBSERVATION_AT)


@view
@external
def trigger_type(vault: address) -> uint256:
    """
    @notice `vault`'s trigger: CALENDAR (0), THRESHOLD (1) or HYBRID (2).
    """
    return self._trigger(vault, packing.TRIGGER_TYPE_AT, packing.TRIGGER_TYPE_BITS)


@view
@external
def rebalance_interval(vault: address) -> uint256:
    """
    @notice Seconds between `vault`'s calendar rebalances / hybrid band checks.
    """
    return self._trigger(vault, packing.INTERVAL_AT, packing.INTERVAL_BITS)


@view
@external
def vol_reference(vault: address) -> uint256:
    """
    @notice Annualised volatility (WAD) at which `vault`'s hybrid band multiplier is 1.
    """
    return self._trigger(vault, packing.VOL_REFERENCE_AT, packing.VOL_REFERENCE_BITS)


@view
@external
def vol_alpha_bps(vault: address) -> uint256:
    """
    @notice Weight of the newest observation in `vault`'s variance EWMA, bps.
    """
    return self._trigger(vault, packing.VOL_ALPHA_AT, packing.BPS_BITS)


@view
@external
def vol_min_interval(vault: address) -> uint256:
    """
    @notice Shortest time between two of `vault`'s volatility observations, seconds.
    """
    return self._trigger(vault, packing.VOL_MIN_INTERVAL_AT, packing.INTERVAL_BITS)


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


# ---------------------------------------------------------------- internal


@view
@internal
def _prices(vault: address, state: IVault.VaultState) -> DynArray[uint256, constants.MAX_ASSETS]:
    prices: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        prices.append(staticcall IVault(vault).price(a.asset))
    return prices


@view
@internal
def _lent(vault: address, state: IVault.VaultState, entry: bool) -> DynArray[uint256, constants.MAX_ASSETS]:
    sleeve: address = staticcall IVault(vault).sleeve()
    if sleeve != empty(address):
        return staticcall ISleeve(sleeve).lent_assets(entry)
    return rules._exit_amounts(0, self._balances(state), 0)  # one zero per asset


@pure
@internal
def _with_lent(state: IVault.VaultState, lent: DynArray[uint256, constants.MAX_ASSETS]) -> IVault.VaultState:
    holdings: IVault.VaultState = state
    for i: uint256 in range(len(state.assets), bound=constants.MAX_ASSETS):
        holdings.assets[i].balance += lent[i]
    return holdings


@view
@internal
def _holdings(vault: address, entry: bool) -> IVault.VaultState:
    """
    @dev The vault's raw state with each balance its holding: idle plus
         lent, as the vault's weights, drift and trigger count it, or as
         an `entry` pays for it (the lent part at the reported rate).
    """
    state: IVault.VaultState = staticcall IVault(vault).raw_state()
    return self._with_lent(state, self._lent(vault, state, entry))


@pure
@internal
def _balances(state: IVault.VaultState) -> DynArray[uint256, constants.MAX_ASSETS]:
    balances: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        balances.append(a.balance)
    return balances


@pure
@internal
def _configs(state: IVault.VaultState) -> DynArray[uint256, constants.MAX_ASSETS]:
    configs: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        configs.append(a.feed_config)
    return configs


@pure
@internal
def _asset(state: IVault.VaultState, asset: address) -> IVault.AssetState:
    for a: IVault.AssetState in state.assets:
        if a.asset == asset:
            return a
    raise "lens: unknown asset"


@view
@internal
def _targets(state: IVault.VaultState) -> DynArray[uint256, constants.MAX_ASSETS]:
    ramp_weights: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        ramp_weights.append(a.ramp_weight)
    return rules._targets(state.clock, self._configs(state), ramp_weights, block.timestamp)


@pure
@internal
def _weights(
    state: IVault.VaultState, prices: DynArray[uint256, constants.MAX_ASSETS]
) -> (uint256, DynArray[uint256, constants.MAX_ASSETS]):
    values: DynArray[uint256, constants.MAX_ASSETS] = []
    for i: uint256 in range(len(state.assets), bound=constants.MAX_ASSETS):
        values.append(rules._value(state.assets[i].balance, prices[i], state.assets[i].feed_config, False))
    return rules._weights(values)


@view
@internal
def _drifts(state: IVault.VaultState, prices: DynArray[uint256, constants.MAX_ASSETS]) -> DynArray[int256, constants.MAX_ASSETS]:
    total: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    total, weights = self._weights(state, prices)
    return rules._drifts(weights, self._targets(state))


@view
@internal
def _needs_rebalance(state: IVault.VaultState, prices: DynArray[uint256, constants.MAX_ASSETS]) -> (bool, String[16]):
    if state.status & (packing.PAUSED | packing.SHUTDOWN) != 0:
        return False, ""
    total: uint256 = 0
    weights: DynArray[uint256, constants.MAX_ASSETS] = []
    total, weights = self._weights(state, prices)
    if total == 0:
        return False, ""  # an empty vault has nothing to rebalance
    observations: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        observations.append(a.observation)
    drifts: DynArray[int256, constants.MAX_ASSETS] = rules._drifts(weights, self._targets(state))
    return rules._needs_rebalance(state.trigger, state.clock, self._configs(state), observations, drifts, block.timestamp)


@view
@internal
def _status(vault: address, at: uint256, bits: uint256) -> uint256:
    return packing._unpack((staticcall IVault(vault).raw_state()).status, at, bits)


@view
@internal
def _clock(vault: address, at: uint256) -> uint256:
    return packing._unpack((staticcall IVault(vault).raw_state()).clock, at, packing.TIME_BITS)


@view
@internal
def _trigger(vault: address, at: uint256, bits: uint256) -> uint256:
    return packing._unpack((staticcall IVault(vault).raw_state()).trigger, at, bits)


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


@pure
@internal
def _entry_haircut(state: IVault.VaultState) -> uint256:
    """
    @dev The deposit haircut the vault applies in `state` (`rules._entry_haircut`).
    """
    observations: DynArray[uint256, constants.MAX_ASSETS] = []
    for a: IVault.AssetState in state.assets:
        observations.append(a.observation)
    return rules._entry_haircut(state.status, rules._max_variance(observations))
