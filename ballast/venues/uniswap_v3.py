"""Uniswap V3 on a local chain: the factory and pools of ``@uniswap/v3-core@1.0.1``, QuoterV2 and
SwapRouter of ``@uniswap/v3-periphery@1.4.4``, Ballast's adapter over one fee tier
(``contracts/venues/UniswapV3Venue.vy``), and :class:`V3Pool`, a snapshot of a live pool that
quotes exactly as the pool swaps (``ballast.venues.uniswap_v3_math``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

from eth_abi import encode
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from ballast.chain import artifacts
from ballast.chain.pinned import at_block
from ballast.venues import uniswap_v3_math as v3
from ballast.venues.routing import BeyondSnapshot

CORE = "@uniswap/v3-core"
PERIPHERY = "@uniswap/v3-periphery"
_PATHS = {
    "UniswapV3Factory": (CORE, "artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"),
    "UniswapV3Pool": (CORE, "artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"),
    "IERC20Minimal": (CORE, "artifacts/contracts/interfaces/IERC20Minimal.sol/IERC20Minimal.json"),
    "QuoterV2": (PERIPHERY, "artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json"),
    "SwapRouter": (PERIPHERY, "artifacts/contracts/SwapRouter.sol/SwapRouter.json"),
}
# The fee tiers a fresh factory enables (fee in pips -> tick spacing), and the one it does not.
FEE_TIERS = {500: 10, 3000: 60, 10000: 200}
LOW_FEE, LOW_FEE_TICK_SPACING = 100, 1
# Any address stands for WETH9 in the periphery's constructors when no ETH path is used.
NO_WETH9 = "0x" + "ee" * 20


def container(name: str):
    """An ape contract container for ``UniswapV3Factory``, ``UniswapV3Pool``, ``QuoterV2``, ..."""
    return artifacts.container(*_PATHS[name])


def artifact(name: str) -> artifacts.Artifact:
    """The npm artifact (ABI and bytecode) of ``UniswapV3Factory``, ``UniswapV3Pool``, ..."""
    return artifacts.load(*_PATHS[name])


@cache
def pool_init_code_hash() -> bytes:
    """keccak256 of the pool's creation code: what CREATE2 pool addresses are derived from.

    Equal to ``POOL_INIT_CODE_HASH`` of ``@uniswap/v3-periphery``'s ``PoolAddress``, so the mainnet
    factory's pools are derived with it too (``tests/unit/test_spec_validation.py``).
    """
    code = artifacts.contract_type(*_PATHS["UniswapV3Pool"]).deployment_bytecode.bytecode
    return keccak(bytes.fromhex(code.removeprefix("0x")))


def pool_address(factory: str, token_a: str, token_b: str, fee: int) -> str:
    """The CREATE2 address of ``factory``'s (token_a, token_b) pool at ``fee`` pips, as the adapter
    (and the periphery's ``PoolAddress``) derives it (it may hold no contract); checksummed."""
    token0, token1 = sort_tokens(token_a, token_b)
    salt = keccak(encode(["address", "address", "uint24"], [token0, token1, fee]))
    digest = keccak(b"\xff" + bytes.fromhex(_address(factory)[2:]) + salt + pool_init_code_hash())
    return to_checksum_address(digest[12:])


def deploy_adapter(project, factory: str, fee: int, sender):
    """Ballast's adapter over the ``fee`` (pips) pools of the Uniswap V3 factory at ``factory``
    (an existing one, e.g. mainnet's: nothing else is deployed, no fee tier enabled)."""
    return project.UniswapV3Venue.deploy(factory, pool_init_code_hash(), fee, sender=sender)


def deploy_venue(project, sender, fee: int = 3000, factory=None):
    """A fresh factory (unless given; ``sender`` owns it) and the Ballast adapter over its ``fee`` pools.

    ``fee`` = 100 (tick spacing 1, not enabled by the 1.0.1 factory) is enabled here first, as
    governance did on mainnet.
    """
    if factory is None:
        factory = container("UniswapV3Factory").deploy(sender=sender)
    if fee == LOW_FEE and int(factory.feeAmountTickSpacing(fee)) == 0:
        factory.enableFeeAmount(LOW_FEE, LOW_FEE_TICK_SPACING, sender=sender)
    return factory, deploy_adapter(project, factory.address, fee, sender)


def deploy_periphery(factory, sender):
    """QuoterV2 and SwapRouter over ``factory`` (the reference quote and the reference router)."""
    quoter = container("QuoterV2").deploy(factory.address, NO_WETH9, sender=sender)
    router = container("SwapRouter").deploy(factory.address, NO_WETH9, sender=sender)
    return quoter, router


def deploy_liquidity_helper(project, factory, sender):
    """Ballast's ``UniswapV3Liquidity`` (mints positions paid by ``transferFrom``)."""
    return project.UniswapV3Liquidity.deploy(factory.address, sender=sender)


def _address(x) -> str:
    return to_checksum_address(x if isinstance(x, str) else x.address)


def sort_tokens(token_a, token_b) -> tuple[str, str]:
    a, b = _address(token_a), _address(token_b)
    return (a, b) if int(a, 16) < int(b, 16) else (b, a)


def create_pool(factory, token_a, token_b, fee: int, price: float, sender, numerator: int = 1, denominator: int = 1):
    """Create the ``fee`` pool of (token_a, token_b) and initialize it at ``price``.

    ``price`` is token_b per token_a in raw base units (times ``numerator / denominator`` when an
    exact ratio is wanted); the pool stores it as sqrt(token1 / token0) * 2**96.
    """
    token0, _ = sort_tokens(token_a, token_b)
    ratio = Fraction(price) * numerator / denominator
    if token0 != _address(token_a):
        ratio = 1 / ratio
    factory.createPool(_address(token_a), _address(token_b), fee, sender=sender)
    pool = container("UniswapV3Pool").at(factory.getPool(_address(token_a), _address(token_b), fee))
    pool.initialize(v3.sqrt_price_x96_from_price(ratio), sender=sender)
    return pool


def full_range(tick_spacing: int) -> tuple[int, int]:
    """The widest (tick_lower, tick_upper) a pool of ``tick_spacing`` accepts."""
    return -(v3.MAX_TICK // tick_spacing) * tick_spacing, (v3.MAX_TICK // tick_spacing) * tick_spacing


def ticks_around(pool, below: int, above: int) -> tuple[int, int]:
    """A range from ``below`` tick spacings under the pool's current tick to ``above`` over it."""
    return range_around(int(pool.slot0()[1]), int(pool.tickSpacing()), below, above)


def range_around(tick: int, spacing: int, below: int, above: int) -> tuple[int, int]:
    """A range from ``below`` tick spacings under ``tick`` (rounded down to the spacing) to ``above`` over it."""
    base = tick // spacing * spacing
    return base - below * spacing, base + above * spacing


def tick_spacing_of(fee: int) -> int:
    """The tick spacing of a fee tier (pips): the factory's three, and the 1 bp tier enabled here."""
    return LOW_FEE_TICK_SPACING if fee == LOW_FEE else FEE_TIERS[fee]


def seed_ranges(tick: int, tick_spacing: int, band_bps: int | None) -> list[tuple[int, int]]:
    """The ranges :func:`seed_pool` mints at ``tick``, each paid an equal share of the amounts: the
    full range and, unless ``band_bps`` is None, one within about ``band_bps`` of the price."""
    ranges = [full_range(tick_spacing)]
    if band_bps is not None:
        span = max(1, round(math.log(1 + band_bps / 10_000) / math.log(1.0001) / tick_spacing))
        base = tick // tick_spacing * tick_spacing
        ranges.append((base - span * tick_spacing, base + span * tick_spacing))
    return ranges


def seed_price(token_a, token_b, amount_a: int, amount_b: int) -> Fraction:
    """The price (token1 per token0, raw base units) of a pool holding ``amount_a`` of ``token_a``
    and ``amount_b`` of ``token_b``: what :func:`seed_pool` initializes it at."""
    token0, _ = sort_tokens(token_a, token_b)
    return Fraction(amount_b, amount_a) if token0 == _address(token_a) else Fraction(amount_a, amount_b)


def seed_positions(
    tick: int, spacing: int, amount0: int, amount1: int, band_bps: int | None = 1_000
) -> list[tuple[int, int, int, int]]:
    """The positions :func:`seed_pool` mints at ``tick``, as (tick_lower, tick_upper, amount0,
    amount1): :func:`seed_ranges`, each paid an equal share of the amounts."""
    ranges = seed_ranges(tick, spacing, band_bps)
    return [(lower, upper, amount0 // len(ranges), amount1 // len(ranges)) for lower, upper in ranges]


def seed_pool(
    factory,
    helper,
    token_a,
    token_b,
    amount_a: int,
    amount_b: int,
    fee: int,
    provider,
    band_bps: int | None = 1_000,
):
    """Create and initialize the ``fee`` pool of (token_a, token_b) at the ratio of the amounts,
    then add half of each amount full range and half within about ``band_bps`` of the price (a
    concentrated position, so large trades cross initialized ticks as on mainnet); with
    ``band_bps=None``, all of it full range (a constant-product curve).

    ``provider`` must hold both amounts. Returns the pool. :func:`seeded_state` is the same pool
    built off-chain.
    """
    token0, _ = sort_tokens(token_a, token_b)
    factory.createPool(_address(token_a), _address(token_b), fee, sender=provider)
    pool = container("UniswapV3Pool").at(factory.getPool(_address(token_a), _address(token_b), fee))
    pool.initialize(v3.sqrt_price_x96_from_price(seed_price(token_a, token_b, amount_a, amount_b)), sender=provider)
    amount0, amount1 = (amount_a, amount_b) if token0 == _address(token_a) else (amount_b, amount_a)
    positions = seed_positions(int(pool.slot0()[1]), int(pool.tickSpacing()), amount0, amount1, band_bps)
    for lower, upper, paid0, paid1 in positions:
        add_liquidity(helper, pool, provider, paid0, paid1, lower, upper)
    return pool


def seeded_state(amount0: int, amount1: int, fee: int, band_bps: int | None = 1_000) -> v3.PoolState:
    """The state :func:`seed_pool` leaves a fresh pool in (token0 and token1 amounts), computed
    off-chain with the pool's own math: what the bench's sandwich matrix trades on without a chain.

    Equal to ``read_pool_state`` of the seeded pool (``tests/adversarial/test_sandwich_matrix.py``);
    its bitmap is complete (``words=None``).
    """
    spacing = tick_spacing_of(fee)
    sqrt_price = v3.sqrt_price_x96_from_price(Fraction(amount1, amount0))
    tick = v3.get_tick_at_sqrt_ratio(sqrt_price)
    state = v3.PoolState(sqrt_price, tick, 0, fee, spacing)
    ranges = seed_ranges(tick, spacing, band_bps)
    for lower, upper in ranges:
        liquidity = v3.liquidity_for_amounts(
            sqrt_price,
            v3.get_sqrt_ratio_at_tick(lower),
            v3.get_sqrt_ratio_at_tick(upper),
            amount0 // len(ranges),
            amount1 // len(ranges),
        )
        for edge, net in ((lower, liquidity), (upper, -liquidity)):  # what the pool's mint writes
            state.liquidity_net[edge] = state.liquidity_net.get(edge, 0) + net
            word, bit = v3.tick_position(edge // spacing)
            state.bitmap[word] = state.bitmap.get(word, 0) | 1 << bit
        if lower <= tick < upper:
            state.liquidity += liquidity
    return state


def add_liquidity(
    helper, pool, provider, amount0: int, amount1: int, tick_lower: int | None = None, tick_upper: int | None = None
):
    """Mint the most liquidity ``amount0``/``amount1`` pay for in [tick_lower, tick_upper) (full range
    by default), owned and paid by ``provider`` (who must hold the amounts; approvals are made here).

    Returns ``(liquidity, amount0_paid, amount1_paid)``.
    """
    if tick_lower is None or tick_upper is None:
        tick_lower, tick_upper = full_range(int(pool.tickSpacing()))
    liquidity = position_liquidity(int(pool.slot0()[0]), tick_lower, tick_upper, amount0, amount1)
    erc20 = container("IERC20Minimal")
    for token in (pool.token0(), pool.token1()):
        erc20.at(token).approve(helper.address, 2**256 - 1, sender=provider)
    tx = helper.mint(pool.address, tick_lower, tick_upper, liquidity, sender=provider)
    (minted,) = tx.events.filter(pool.Mint)  # the pool's event: return values need a tracing provider
    return liquidity, int(minted.amount0), int(minted.amount1)


def position_liquidity(sqrt_price_x96: int, tick_lower: int, tick_upper: int, amount0: int, amount1: int) -> int:
    """The most liquidity ``amount0``/``amount1`` pay for in [tick_lower, tick_upper) at the pool's price."""
    return v3.liquidity_for_amounts(
        sqrt_price_x96, v3.get_sqrt_ratio_at_tick(tick_lower), v3.get_sqrt_ratio_at_tick(tick_upper), amount0, amount1
    )


def adapter_output_bound(sqrt_price_x96: int, fee: int, zero_for_one: bool, amount_in: int) -> int:
    """The most ``UniswapV3Venue.swap`` can pay for ``amount_in`` at the pool's start price: its
    ``_check_start_price`` refuses a ``min_amount_out`` above this before calling the pool
    (``"uniswap_v3: insufficient output"``). Integer for integer the adapter's arithmetic: the
    input less the fee (rounded down), times the start price, each step rounded up."""
    priced = (
        amount_in // v3.FEE_DENOMINATOR * (v3.FEE_DENOMINATOR - fee)
        + (amount_in % v3.FEE_DENOMINATOR) * (v3.FEE_DENOMINATOR - fee) // v3.FEE_DENOMINATOR
    )
    s = sqrt_price_x96
    if zero_for_one:
        return v3.mul_div_rounding_up(v3.mul_div_rounding_up(priced, s, v3.Q96), s, v3.Q96)
    return v3.mul_div_rounding_up(v3.mul_div_rounding_up(priced, v3.Q96, s), v3.Q96, s)


def quote_exact_input_single(quoter, token_in, token_out, fee: int, amount_in: int) -> int:
    """QuoterV2's ``quoteExactInputSingle`` by ``eth_call`` (no limit): the reference quote."""
    params = (_address(token_in), _address(token_out), amount_in, fee, 0)
    return int(quoter.quoteExactInputSingle.call(params)[0])


# ---------------------------------------------------------------- the planner's snapshot


@dataclass
class V3Pool:
    """A snapshot of one Uniswap V3 pool as the Ballast adapter trades it.

    ``quote`` and ``apply`` run the pool's own swap loop (``uniswap_v3_math.swap_exact_input``)
    over the slot0, liquidity and initialized ticks read by :func:`snapshot`, so they equal the
    pool's output to the wei while the swap stays within the tick-bitmap words read (outside
    them they raise ``WindowExceeded``, never guess).
    """

    venue: str  # the Ballast adapter address (checksummed)
    token_a: str  # token0
    token_b: str  # token1
    pool: str
    state: v3.PoolState = field(repr=False)

    @property
    def fee(self) -> int:
        return self.state.fee

    @property
    def sqrt_price_x96(self) -> int:
        return self.state.sqrt_price_x96

    @property
    def tick(self) -> int:
        return self.state.tick

    @property
    def liquidity(self) -> int:
        return self.state.liquidity

    def __deepcopy__(self, memo) -> V3Pool:
        # A swap replaces ``state`` (never mutates it, nor its tick dictionaries), so a copy that
        # shares the state is independent: the planner and the sandwich search copy pools often
        # (built directly: ``dataclasses.replace`` inspects the fields on every call).
        return V3Pool(self.venue, self.token_a, self.token_b, self.pool, self.state)

    def _zero_for_one(self, token_in: str) -> bool:
        key = str(token_in).lower()  # a case-insensitive match, without re-checksumming each call
        if key == self.token_a.lower():
            return True
        if key == self.token_b.lower():
            return False
        raise ValueError(f"{to_checksum_address(token_in)} is not a token of pool {self.pool}")

    def simulate(self, token_in: str, amount_in: int) -> v3.SwapResult:
        """The pool's swap of exactly ``amount_in`` (extreme price limit), without moving the snapshot."""
        return v3.swap_exact_input(self.state, self._zero_for_one(token_in), amount_in)

    def quote(self, token_in: str, amount_in: int) -> int:
        """The exact output of the adapter's ``swap(token_in, ., amount_in, ...)``; 0 for no input.

        Raises ``ValueError`` when the pool cannot take the whole input (the adapter would revert).
        """
        result = self._fill(token_in, amount_in)
        return result.amount_out if result else 0

    def apply(self, token_in: str, amount_in: int) -> int:
        """``quote``, and move this snapshot's price, tick and liquidity as the pool's swap would."""
        result = self._fill(token_in, amount_in)
        if result is None:
            return 0
        state = self.state  # dataclasses.replace(state, sqrt_price_x96=..., tick=..., liquidity=...), built directly
        self.state = v3.PoolState(
            result.sqrt_price_x96,
            result.tick,
            result.liquidity,
            state.fee,
            state.tick_spacing,
            state.liquidity_net,
            state.bitmap,
            state.words,
        )
        return result.amount_out

    def _fill(self, token_in: str, amount_in: int) -> v3.SwapResult | None:
        """The swap of exactly ``amount_in`` (None for no input); ValueError if the pool stops short."""
        if amount_in <= 0:
            return None
        result = self.simulate(token_in, amount_in)
        if result.amount_in != amount_in:
            raise ValueError(f"pool {self.pool} takes only {result.amount_in} of {amount_in}: price limit reached")
        return result

    def marginal_price(self, token_in: str) -> float:
        """Output per unit of input for an infinitesimal trade, fee included (raw base units)."""
        price = v3.price_of(self.state.sqrt_price_x96)  # token1 per token0
        per_in = price if self._zero_for_one(token_in) else 1 / price
        return per_in * (v3.FEE_DENOMINATOR - self.state.fee) / v3.FEE_DENOMINATOR


def read_pool_state(pool, words: int = 4, word_positions: list[int] | None = None) -> v3.PoolState:
    """slot0, liquidity, fee, tick spacing and the initialized ticks (with liquidityNet) of the
    tick-bitmap words within ``words`` of the current tick's word, read from the chain.

    ``word_positions`` instead reads exactly those words and marks the snapshot complete
    (``words=None``): for a pool whose every position the caller minted itself, so that it
    knows no other word has an initialized tick (the fuzzer's pools, :mod:`ballast.fuzz.stack`).
    """
    slot0 = pool.slot0()
    sqrt_price, tick = int(slot0[0]), int(slot0[1])
    spacing = int(pool.tickSpacing())
    center = (tick // spacing) >> 8
    low = max(center - words, (v3.MIN_TICK // spacing) >> 8)
    high = min(center + words, (v3.MAX_TICK // spacing) >> 8)
    bitmap, liquidity_net = {}, {}
    for word_pos in range(low, high + 1) if word_positions is None else sorted(set(word_positions)):
        word = int(pool.tickBitmap(word_pos))
        if not word:
            continue
        bitmap[word_pos] = word
        for bit in range(256):
            if word >> bit & 1:
                initialized = (word_pos * 256 + bit) * spacing
                liquidity_net[initialized] = int(pool.ticks(initialized)[1])
    return v3.PoolState(
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=int(pool.liquidity()),
        fee=int(pool.fee()),
        tick_spacing=spacing,
        liquidity_net=liquidity_net,
        bitmap=bitmap,
        words=(low, high) if word_positions is None else None,
    )


def snapshot(venue, token_a, token_b, words: int = 4, block: int | None = None) -> V3Pool | None:
    """The :class:`V3Pool` of (token_a, token_b) at ``venue``'s fee tier (None if no pool), every
    call read at ``block`` when given."""
    address = venue.pool_for(_address(token_a), _address(token_b))
    if not venue.provider.get_code(address, block_id=block):
        return None
    pool = container("UniswapV3Pool").at(address)
    pool = at_block(pool, block)
    token0, token1 = sort_tokens(token_a, token_b)
    return V3Pool(
        venue=_address(venue),
        token_a=token0,
        token_b=token1,
        pool=to_checksum_address(address),
        state=read_pool_state(pool, words),
    )


@dataclass
class V3VenuePool:
    """A :class:`V3Pool` seen through the planner's venue protocol (:class:`ballast.venues.routing.VenuePool`).

    ``quote`` and ``apply`` are the pool's exact swap loop; ``input_for_price`` and ``depth`` are
    float guides for the order splitter and the sandwich search. A swap the pool cannot fill
    (out of liquidity, or past the ticks read) raises an ``ArithmeticError``, so the planner
    treats it as too large.
    """

    inner: V3Pool

    def __deepcopy__(self, memo) -> V3VenuePool:
        return V3VenuePool(copy.deepcopy(self.inner, memo))

    @property
    def venue(self) -> str:
        return self.inner.venue

    @property
    def tokens(self) -> tuple[str, str]:
        return (self.inner.token_a, self.inner.token_b)

    @property
    def fee_bps(self) -> float:
        return self.inner.fee / 100

    def has(self, token_in: str, token_out: str) -> bool:
        pair = {self.inner.token_a.lower(), self.inner.token_b.lower()}
        keys = {str(token_in).lower(), str(token_out).lower()}
        return len(keys) == 2 and keys == pair

    def quote(self, token_in: str, token_out: str, amount_in: int) -> int:
        return self._unfillable_as_arithmetic(self.inner.quote, token_in, amount_in)

    def apply(self, token_in: str, token_out: str, amount_in: int) -> int:
        return self._unfillable_as_arithmetic(self.inner.apply, token_in, amount_in)

    @staticmethod
    def _unfillable_as_arithmetic(swap, token_in: str, amount_in: int) -> int:
        # The planner treats an ArithmeticError as "too large for this pool"; the sandwich search
        # tells a swap past the ticks read (BeyondSnapshot: the pool may fill it) from one the pool
        # refuses (out of liquidity).
        try:
            return swap(token_in, amount_in)
        except v3.WindowExceeded as err:
            raise BeyondSnapshot(str(err)) from err
        except ValueError as err:
            raise ArithmeticError(str(err)) from err

    def marginal_price(self, token_in: str, token_out: str) -> float:
        return self.inner.marginal_price(token_in) if self.inner.liquidity else 0.0

    def input_for_price(self, token_in: str, token_out: str, price: float) -> float:
        """The input after which the next unit's output is ``price`` (raw units, fee included),
        walking the initialized ticks read: within a range of liquidity ``L`` the fee-free input
        is ``L (1/s_t - 1/s)`` selling token0 and ``L (s_t - s)`` selling token1, with ``s`` the
        sqrt price and ``s_t`` the target's (``sqrt(price / g)``, resp. ``sqrt(g / price)``).
        Stops at the edge of the tick-bitmap words read (an underestimate, never a guess past
        the snapshot)."""
        state = self.inner.state
        g = (v3.FEE_DENOMINATOR - state.fee) / v3.FEE_DENOMINATOR
        if price <= 0 or state.liquidity == 0:
            return 0.0
        zero_for_one = self.inner._zero_for_one(token_in)
        s = state.sqrt_price_x96 / v3.Q96
        target = (price / g) ** 0.5 if zero_for_one else (g / price) ** 0.5
        if (zero_for_one and target >= s) or (not zero_for_one and target <= s):
            return 0.0
        ticks = sorted(state.liquidity_net)
        if zero_for_one:  # price falls: cross initialized ticks at or below the current one, downward
            boundaries = [t for t in reversed(ticks) if t <= state.tick]
        else:
            boundaries = [t for t in ticks if t > state.tick]
        if state.words is not None:
            # Past the last initialized tick read, the liquidity holds to the edge of the words read.
            low, high = state.words
            edge = low * 256 * state.tick_spacing if zero_for_one else (high * 256 + 255) * state.tick_spacing
            boundaries.append(max(min(edge, v3.MAX_TICK), v3.MIN_TICK))
        liquidity, effective = state.liquidity, 0.0
        for tick in boundaries:
            edge = v3.get_sqrt_ratio_at_tick(tick) / v3.Q96
            stop = max(edge, target) if zero_for_one else min(edge, target)
            effective += liquidity * (1 / stop - 1 / s) if zero_for_one else liquidity * (stop - s)
            if stop == target:
                return effective / g
            s = edge
            net = state.liquidity_net.get(tick, 0)
            liquidity = liquidity - net if zero_for_one else liquidity + net
            if liquidity <= 0:
                return effective / g
        return effective / g

    def depth(self, token_in: str, token_out: str) -> int:
        """The input side's virtual reserve at the current price: ``L / s`` of token0, ``L s`` of token1."""
        s = self.inner.sqrt_price_x96 / v3.Q96
        liquidity = self.inner.liquidity
        return int(liquidity / s) if self.inner._zero_for_one(token_in) else int(liquidity * s)
