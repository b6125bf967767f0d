# pragma version 0.4.3
"""
@title Over-charging Uniswap V3 pool (test double)
@custom:contract-name MockOverchargingV3Pool
@notice Answers `swap` by asking the caller's callback for twice the
        input, to show an adapter pays no more than `amount_in` even to
        the pool it named. Deployed by `MockV3PoolDeployer` at the CREATE2
        address a V3 factory would use. Test use only.
"""


interface IUniswapV3SwapCallback:
    def uniswapV3SwapCallback(amount0Delta: int256, amount1Delta: int256, data: Bytes[32]): nonpayable


@external
def swap(
    recipient: address, zeroForOne: bool, amountSpecified: int256, sqrtPriceLimitX96: uint160, data: Bytes[32]
) -> (int256, int256):
    """
    @notice Ask for 2 * `amountSpecified` of the input, pay nothing.
    """
    if zeroForOne:
        extcall IUniswapV3SwapCallback(msg.sender).uniswapV3SwapCallback(2 * amountSpecified, 0, b"")
        return 2 * amountSpecified, 0
    extcall IUniswapV3SwapCallback(msg.sender).uniswapV3SwapCallback(0, 2 * amountSpecified, b"")
    return 0, 2 * amountSpecified
