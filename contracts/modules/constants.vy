# pragma version 0.4.3
"""
@title Ballast constants
@notice The single source of every protocol-wide constant. The Python
        package (`ballast.constants`) parses this file, so nothing is
        re-typed off-chain.
"""

# @dev 100% in basis points.
MAX_BPS: constant(uint256) = 10_000
# @dev 100% in WAD; weights, drift and USD values use 18 decimals.
WAD: constant(uint256) = 10**18
# @dev One basis point in WAD.
BPS_TO_WAD: constant(uint256) = 10**14
# @dev Largest basket a vault may hold; every loop is bounded by it.
MAX_ASSETS: constant(uint256) = 8
# @dev Largest number of swaps one rebalance may carry.
MAX_TRADES: constant(uint256) = 16
# @dev Shares minted to the vault itself on the first entry and locked
#      forever, so the share supply can never return to a dust amount.
DEAD_SHARES: constant(uint256) = 10**6
# @dev Shortest allowed ramp of a target-weight change.
MIN_RAMP_DURATION: constant(uint256) = 3_600
# @dev Most decimals an asset or a feed may have.
MAX_DECIMALS: constant(uint256) = 18
# @dev Bounds of the hybrid trigger's volatility band multiplier.
VOL_SCALE_MIN_BPS: constant(uint256) = 5_000
VOL_SCALE_MAX_BPS: constant(uint256) = 30_000
# @dev Seconds in a 365-day year, for annualised variance.
SECONDS_PER_YEAR: constant(uint256) = 31_536_000
# @dev Caps on owner-set parameters.
MAX_ENTRY_HAIRCUT_BPS: constant(uint256) = 1_000
# @dev Bounds of a price guard: the TWAP window, s (a shorter one is close to
#      the spot price, which one block can move), and the largest deviation.
MIN_TWAP_WINDOW: constant(uint256) = 300
MAX_TWAP_WINDOW: constant(uint256) = 604_800
MAX_DEVIATION_BPS: constant(uint256) = 2_000
MAX_SLIPPAGE_BPS: constant(uint256) = 1_000
MAX_COST_BPS: constant(uint256) = 500
# @dev Trigger families of `needs_rebalance()`.
TRIGGER_CALENDAR: constant(uint256) = 0
TRIGGER_THRESHOLD: constant(uint256) = 1
TRIGGER_HYBRID: constant(uint256) = 2
# @dev Role bits of `roles`.
ROLE_GUARDIAN: constant(uint256) = 1
ROLE_KEEPER: constant(uint256) = 2
ROLE_ALLOCATOR: constant(uint256) = 4
# @dev Gas each attempt of an exit's lent part may spend (`LendingSleeve.pay_exit`):
#      a market that burns all it is given cannot make the exit run out of gas.
REDEEM_GAS: constant(uint256) = 1_000_000
TRANSFER_GAS: constant(uint256) = 200_000
# @dev Shares in which a lending market's rate is read (assets per 10**18 shares).
RATE_SHARES: constant(uint256) = 10**18
# @dev Caps on the sleeve's guards: the counted rate's rise per year, and the loss that pauses lending.
MAX_RATE_RISE_BPS: constant(uint256) = 100_000
