"""Balancer V2 weighted-pool swap math in pure Python, integers only, rounding as the contracts do.

A port of ``FixedPoint``, ``LogExpMath`` (``pkg/solidity-utils``), ``WeightedMath._calcOutGivenIn``
(``pkg/pool-weighted``) and the GIVEN_IN path of ``BaseMinimalSwapInfoPool.onSwap`` (``pkg/pool-utils``):
the swap fee is taken from the raw input first (rounded up, in the pool's favour), then amounts are
upscaled to 18 decimals by the pool's scaling factors, the output is computed and downscaled
rounding down. Every division is Solidity's: unsigned floor for ``uint256``, truncation toward zero
for ``int256``. The results equal the deployed pool's to the wei (``tests/unit/test_balancer_venue.py``).

:class:`WeightedPool` is a snapshot of one pool that quotes, applies and prices swaps; read one
from the chain with :func:`ballast.venues.balancer_v2.snapshot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ONE = 10**18
TWO = 2 * ONE
FOUR = 4 * ONE
# FixedPoint.MAX_POW_RELATIVE_ERROR: 10^-14, the relative error bound of LogExpMath.pow.
MAX_POW_RELATIVE_ERROR = 10_000
# WeightedMath._MAX_IN_RATIO: a swap may not add more than 30% of the (upscaled) input balance.
MAX_IN_RATIO = 3 * 10**17
# The same cap for the planner's float search, a hair inside so rounding never crosses it.
MAX_IN_RATIO_FLOAT = 0.3 * (1 - 1e-9)
UINT256_MAX = 2**256 - 1


class BalancerError(ArithmeticError):
    """A condition on which the contracts revert; ``code`` is Balancer's ``BAL#`` number."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"BAL#{code:03d} {reason}")
        self.code = code


def _check(condition: bool, code: int, reason: str) -> None:
    if not condition:
        raise BalancerError(code, reason)


# ---------------------------------------------------------------------------------------------
# FixedPoint (uint256, 18 decimals)


def add(a: int, b: int) -> int:
    c = a + b
    _check(c <= UINT256_MAX, 0, "ADD_OVERFLOW")
    return c


def sub(a: int, b: int) -> int:
    _check(b <= a, 1, "SUB_OVERFLOW")
    return a - b


def mul_down(a: int, b: int) -> int:
    product = a * b
    _check(product <= UINT256_MAX, 3, "MUL_OVERFLOW")
    return product // ONE


def mul_up(a: int, b: int) -> int:
    product = a * b
    _check(product <= UINT256_MAX, 3, "MUL_OVERFLOW")
    return 0 if product == 0 else (product - 1) // ONE + 1


def div_down(a: int, b: int) -> int:
    _check(b != 0, 4, "ZERO_DIVISION")
    inflated = a * ONE
    _check(inflated <= UINT256_MAX, 5, "DIV_INTERNAL")
    return inflated // b


def div_up(a: int, b: int) -> int:
    _check(b != 0, 4, "ZERO_DIVISION")
    inflated = a * ONE
    _check(inflated <= UINT256_MAX, 5, "DIV_INTERNAL")
    return 0 if inflated == 0 else (inflated - 1) // b + 1


def complement(x: int) -> int:
    """``1 - x``, floored at 0."""
    return ONE - x if x < ONE else 0


def pow_down(x: int, y: int) -> int:
    """``x^y`` rounded down: ``LogExpMath.pow`` minus its error bound (exact for y = 1, 2, 4)."""
    if y == ONE:
        return x
    if y == TWO:
        return mul_down(x, x)
    if y == FOUR:
        square = mul_down(x, x)
        return mul_down(square, square)
    raw = pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return 0 if raw < max_error else sub(raw, max_error)


def pow_up(x: int, y: int) -> int:
    """``x^y`` rounded up: ``LogExpMath.pow`` plus its error bound (exact for y = 1, 2, 4)."""
    if y == ONE:
        return x
    if y == TWO:
        return mul_up(x, x)
    if y == FOUR:
        square = mul_up(x, x)
        return mul_up(square, square)
    raw = pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return add(raw, max_error)


# ---------------------------------------------------------------------------------------------
# LogExpMath (int256; 18, 20 and 36 decimal fixed point)

ONE_18 = 10**18
ONE_20 = 10**20
ONE_36 = 10**36
MAX_NATURAL_EXPONENT = 130 * ONE_18
MIN_NATURAL_EXPONENT = -41 * ONE_18
LN_36_LOWER_BOUND = ONE_18 - 10**17
LN_36_UPPER_BOUND = ONE_18 + 10**17
MILD_EXPONENT_BOUND = 2**254 // ONE_20

# e^(x_n) for x_n = 2^(7 - n): x0, x1 in 18 decimals with a_n as plain integers; the rest in 20 decimals.
X0, A0 = 128 * ONE_18, 38877084059945950922200000000000000000000000000000000000
X1, A1 = 64 * ONE_18, 6235149080811616882910000000
_X_A_20 = (
    (3200000000000000000000, 7896296018268069516100000000000000),
    (1600000000000000000000, 888611052050787263676000000),
    (800000000000000000000, 298095798704172827474000),
    (400000000000000000000, 5459815003314423907810),
    (200000000000000000000, 738905609893065022723),
    (100000000000000000000, 271828182845904523536),
    (50000000000000000000, 164872127070012814685),
    (25000000000000000000, 128402541668774148407),
    (12500000000000000000, 113314845306682631683),
    (6250000000000000000, 106449445891785942956),
)


def _sdiv(a: int, b: int) -> int:
    """Solidity's ``int256`` division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _smod(a: int, b: int) -> int:
    """Solidity's ``int256`` remainder: takes the sign of the dividend."""
    return a - _sdiv(a, b) * b


def pow(x: int, y: int) -> int:  # noqa: A001 - the name of the library function ported
    """``LogExpMath.pow``: ``x^y`` for unsigned 18-decimal ``x`` and ``y``, as ``exp(y * ln(x))``."""
    if y == 0:
        return ONE_18
    if x == 0:
        return 0
    _check(x >> 255 == 0, 6, "X_OUT_OF_BOUNDS")
    _check(y < MILD_EXPONENT_BOUND, 7, "Y_OUT_OF_BOUNDS")
    if LN_36_LOWER_BOUND < x < LN_36_UPPER_BOUND:
        ln_36_x = _ln_36(x)
        logx_times_y = _sdiv(ln_36_x, ONE_18) * y + _sdiv(_smod(ln_36_x, ONE_18) * y, ONE_18)
    else:
        logx_times_y = _ln(x) * y
    logx_times_y = _sdiv(logx_times_y, ONE_18)
    _check(MIN_NATURAL_EXPONENT <= logx_times_y <= MAX_NATURAL_EXPONENT, 8, "PRODUCT_OUT_OF_BOUNDS")
    return exp(logx_times_y)


def exp(x: int) -> int:
    """``LogExpMath.exp``: e^x for signed 18-decimal ``x``."""
    _check(MIN_NATURAL_EXPONENT <= x <= MAX_NATURAL_EXPONENT, 9, "INVALID_EXPONENT")
    if x < 0:
        return _sdiv(ONE_18 * ONE_18, exp(-x))
    if x >= X0:
        x -= X0
        first_an = A0
    elif x >= X1:
        x -= X1
        first_an = A1
    else:
        first_an = 1
    x *= 100
    product = ONE_20
    for x_n, a_n in _X_A_20[:8]:  # x2..x9; x10 and x11 are not needed here
        if x >= x_n:
            x -= x_n
            product = _sdiv(product * a_n, ONE_20)
    series_sum = ONE_20
    term = x
    series_sum += term
    for n in range(2, 13):
        term = _sdiv(_sdiv(term * x, ONE_20), n)
        series_sum += term
    return _sdiv(_sdiv(product * series_sum, ONE_20) * first_an, 100)


def _ln(a: int) -> int:
    """``LogExpMath._ln``: ln(a) for signed 18-decimal ``a`` > 0."""
    if a < ONE_18:
        return -_ln(_sdiv(ONE_18 * ONE_18, a))
    total = 0
    if a >= A0 * ONE_18:
        a = _sdiv(a, A0)
        total += X0
    if a >= A1 * ONE_18:
        a = _sdiv(a, A1)
        total += X1
    total *= 100
    a *= 100
    for x_n, a_n in _X_A_20:  # x2..x11
        if a >= a_n:
            a = _sdiv(a * ONE_20, a_n)
            total += x_n
    z = _sdiv((a - ONE_20) * ONE_20, a + ONE_20)
    z_squared = _sdiv(z * z, ONE_20)
    num = z
    series_sum = num
    for d in (3, 5, 7, 9, 11):
        num = _sdiv(num * z_squared, ONE_20)
        series_sum += _sdiv(num, d)
    series_sum *= 2
    return _sdiv(total + series_sum, 100)


def _ln_36(x: int) -> int:
    """``LogExpMath._ln_36``: ln(x) with 36 decimals, for x close to one."""
    x *= ONE_18
    z = _sdiv((x - ONE_36) * ONE_36, x + ONE_36)
    z_squared = _sdiv(z * z, ONE_36)
    num = z
    series_sum = num
    for d in (3, 5, 7, 9, 11, 13, 15):
        num = _sdiv(num * z_squared, ONE_36)
        series_sum += _sdiv(num, d)
    return series_sum * 2


# ---------------------------------------------------------------------------------------------
# WeightedMath and the pool's swap path


def calc_out_given_in(balance_in: int, weight_in: int, balance_out: int, weight_out: int, amount_in: int) -> int:
    """``WeightedMath._calcOutGivenIn`` on upscaled (18-decimal) amounts, fee already taken."""
    _check(amount_in <= mul_down(balance_in, MAX_IN_RATIO), 304, "MAX_IN_RATIO")
    denominator = add(balance_in, amount_in)
    base = div_up(balance_in, denominator)
    exponent = div_down(weight_in, weight_out)
    power = pow_up(base, exponent)
    return mul_down(balance_out, complement(power))


def scaling_factor(decimals: int) -> int:
    """The pool's scaling factor for a token of ``decimals`` (no rate provider): ``1e18 * 10^(18 - d)``."""
    _check(decimals <= 18, 1, "SUB_OVERFLOW")
    return ONE * 10 ** (18 - decimals)


def upscale(amount: int, factor: int) -> int:
    """``_upscale``: ``mulDown(amount, factor)``."""
    return mul_down(amount, factor)


def downscale_down(amount: int, factor: int) -> int:
    """``_downscaleDown``: ``divDown(amount, factor)``."""
    return div_down(amount, factor)


def subtract_swap_fee(amount: int, swap_fee: int) -> int:
    """``BasePool._subtractSwapFeeAmount``: the fee ``mulUp(amount, fee)`` is rounded up."""
    return sub(amount, mul_up(amount, swap_fee))


def swap_given_in(
    amount_in: int,
    balance_in: int,
    balance_out: int,
    weight_in: int,
    weight_out: int,
    factor_in: int,
    factor_out: int,
    swap_fee: int,
) -> int:
    """The raw output of ``onSwap`` (GIVEN_IN) for raw ``amount_in`` and the Vault's raw balances."""
    up_in = upscale(balance_in, factor_in)
    up_out = upscale(balance_out, factor_out)
    amount = upscale(subtract_swap_fee(amount_in, swap_fee), factor_in)
    return downscale_down(calc_out_given_in(up_in, weight_in, up_out, weight_out, amount), factor_out)


@dataclass
class WeightedPool:
    """A snapshot of one Balancer V2 weighted pool behind one Ballast adapter.

    ``balances`` are the Vault's raw balances (``getPoolTokens``), ``weights`` the normalized
    weights (WAD), ``scaling_factors`` the pool's (``getScalingFactors``), ``swap_fee`` WAD.

    Protocol fees: the weighted pools of ``20230206-weighted-pool-v3`` take no protocol share out of
    a swap. They mint BPT to the fee collector on the next join or exit, from the invariant's growth,
    so a swap moves the Vault's balances by exactly ``+amount_in`` and ``-amount_out`` (the whole
    swap fee stays in the pool); :meth:`apply` does just that.
    """

    venue: str
    tokens: list[str]
    balances: list[int]
    weights: list[int]
    scaling_factors: list[int]
    swap_fee: int
    pool_id: bytes = b""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        self._index = {t.lower(): i for i, t in enumerate(self.tokens)}

    def index(self, token: str) -> int:
        """The position of ``token`` in the pool (KeyError if it is not a pool token)."""
        return self._index[str(token).lower()]

    def _pair(self, token_in: str, token_out: str) -> tuple[int, int]:
        i, o = self.index(token_in), self.index(token_out)
        if i == o:
            raise BalancerError(509, "CANNOT_SWAP_SAME_TOKEN")
        return i, o

    def quote(self, token_in: str, token_out: str, amount_in: int) -> int:
        """The exact output of selling ``amount_in`` (raw units) of ``token_in``, to the wei."""
        i, o = self._pair(token_in, token_out)
        return swap_given_in(
            amount_in,
            self.balances[i],
            self.balances[o],
            self.weights[i],
            self.weights[o],
            self.scaling_factors[i],
            self.scaling_factors[o],
            self.swap_fee,
        )

    def apply(self, token_in: str, token_out: str, amount_in: int) -> int:
        """:meth:`quote`, then move this snapshot's balances as the Vault does (fee stays in)."""
        amount_out = self.quote(token_in, token_out, amount_in)
        i, o = self._pair(token_in, token_out)
        self.balances[i] += amount_in
        self.balances[o] -= amount_out
        return amount_out

    def marginal_price(self, token_in: str, token_out: str) -> float:
        """Output per unit of input (raw base units) for an infinitesimal trade, after the fee.

        ``(b_out / w_out) / (b_in / w_in) * (1 - fee)``; the scaling factors cancel in raw units.
        """
        i, o = self._pair(token_in, token_out)
        spot = (self.balances[o] * self.weights[i]) / (self.balances[i] * self.weights[o])
        return spot * (ONE - self.swap_fee) / ONE

    # ---- the planner's venue protocol (ballast.venues.routing.VenuePool)

    @property
    def fee_bps(self) -> float:
        """The swap fee in basis points (the pool keeps it in WAD)."""
        return self.swap_fee * 10_000 / ONE

    def has(self, token_in: str, token_out: str) -> bool:
        keys = (str(token_in).lower(), str(token_out).lower())
        return keys[0] != keys[1] and all(k in self._index for k in keys)

    def input_for_price(self, token_in: str, token_out: str, price: float) -> float:
        """The input that lowers the marginal price to ``price`` (raw units), within the pool's
        30 % input cap.

        With ``r = w_in / w_out`` and ``g = 1 - fee``, ``out(x) = b_out (1 - (b_in / (b_in +
        g x))^r)``, so the marginal price after ``x`` is ``r g b_out b_in^r / (b_in + g x)^(r+1)``;
        solved for ``x`` in logarithms.
        """
        i, o = self._pair(token_in, token_out)
        b_in, b_out = self.balances[i], self.balances[o]
        if price <= 0 or not (b_in and b_out):
            return 0.0
        r = self.weights[i] / self.weights[o]
        g = (ONE - self.swap_fee) / ONE
        log_reach = (math.log(r * g * b_out) + r * math.log(b_in) - math.log(price)) / (r + 1)
        x = (math.exp(log_reach) - b_in) / g
        return min(max(x, 0.0), b_in * MAX_IN_RATIO_FLOAT)

    def depth(self, token_in: str, token_out: str) -> int:
        return self.balances[self.index(token_in)]

    def copy(self) -> WeightedPool:
        """An independent snapshot (for what-if planning with :meth:`apply`)."""
        return WeightedPool(
            self.venue,
            list(self.tokens),
            list(self.balances),
            list(self.weights),
            list(self.scaling_factors),
            self.swap_fee,
            self.pool_id,
        )
