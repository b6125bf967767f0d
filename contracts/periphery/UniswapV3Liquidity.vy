# pragma version 0.4.3
"""
@title Uniswap V3 liquidity helper (mint positions from an account)
@custom:contract-name UniswapV3Liquidity
@notice Mints a position in a pool of one Uniswap V3 factory, owned by the
        caller, paid by the caller through `transferFrom` (approve this
        helper first). A tool for tests, scripts and demos.
@dev Chosen over the periphery's NonfungiblePositionManager: that one
     needs a WETH9, a token descriptor whose bytecode wants a linked
     library, and issues an NFT per position, while Ballast only needs to
     put liquidity in a pool. `pool.mint` names the caller as the position
     owner, so the caller can `burn`/`collect` on the pool directly.
     For the duration of one `mint`, transient storage names the pool and
     the payer; the callback pays only that pool, once.
"""

from ethereum.ercs import IERC20


interface IUniswapV3Factory:
    def getPool(tokenA: address, tokenB: address, fee: uint24) -> address: view


interface IUniswapV3Pool:
    def token0() -> address: view
    def token1() -> address: view
    def fee() -> uint24: view
    def mint(
        recipient: address, tickLower: int24, tickUpper: int24, amount: uint128, data: Bytes[32]
    ) -> (uint256, uint256): nonpayable


# @dev The factory whose pools this helper funds.
factory: public(immutable(address))

# @dev The pool the running `mint` called; empty outside a mint and once paid.
_expected_pool: transient(address)
# @dev Who pays the running `mint`.
_payer: transient(address)


@deploy
def __init__(factory_: address):
    """
    @notice Fund the pools of `factory_`.
    @param factory_ A Uniswap V3 factory.
    """
    assert factory_ != empty(address), "uniswap_v3_liquidity: zero factory"
    factory = factory_


@external
@nonreentrant
def mint(pool: address, tick_lower: int24, tick_upper: int24, liquidity: uint128) -> (uint256, uint256):
    """
    @notice Add `liquidity` between `tick_lower` and `tick_upper` to `pool`,
            owned by the caller and paid from the caller's balances.
    @param pool A pool of `factory`.
    @param tick_lower The position's lower tick (a multiple of the tick spacing).
    @param tick_upper The position's upper tick.
    @param liquidity The liquidity to add.
    @return The token0 and token1 amounts paid.
    """
    token0: address = staticcall IUniswapV3Pool(pool).token0()
    token1: address = staticcall IUniswapV3Pool(pool).token1()
    fee: uint24 = staticcall IUniswapV3Pool(pool).fee()
    assert staticcall IUniswapV3Factory(factory).getPool(token0, token1, fee) == pool, (
        "uniswap_v3_liquidity: not a pool"
    )
    self._expected_pool = pool
    self._payer = msg.sender
    amount0: uint256 = 0
    amount1: uint256 = 0
    amount0, amount1 = extcall IUniswapV3Pool(pool).mint(msg.sender, tick_lower, tick_upper, liquidity, b"")
    self._expected_pool = empty(address)
    return amount0, amount1


@external
def uniswapV3MintCallback(amount0Owed: uint256, amount1Owed: uint256, data: Bytes[32]):
    """
    @notice Pay the pool of the running `mint` from its payer.
    @param amount0Owed token0 owed to the pool.
    @param amount1Owed token1 owed to the pool.
    @param data Unused.
    """
    pool: address = self._expected_pool
    assert pool != empty(address) and msg.sender == pool, "uniswap_v3_liquidity: wrong pool"
    self._expected_pool = empty(address)
    payer: address = self._payer
    if amount0Owed > 0:
        token0: address = staticcall IUniswapV3Pool(pool).token0()
        assert extcall IERC20(token0).transferFrom(payer, pool, amount0Owed, default_return_value=True)
    if amount1Owed > 0:
        token1: address = staticcall IUniswapV3Pool(pool).token1()
        assert extcall IERC20(token1).transferFrom(payer, pool, amount1Owed, default_return_value=True)
