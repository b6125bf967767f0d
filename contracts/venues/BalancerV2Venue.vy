# pragma version 0.4.3
# pragma experimental-codegen
# pragma evm-version cancun
"""
@title Ballast venue over one Balancer V2 pool
@custom:contract-name BalancerV2Venue
@notice Sells an exact input through the Balancer V2 Vault's `swap`
        (GIVEN_IN) on ONE pool, fixed at deploy: one adapter per pool.
@dev Push flow: the caller transfers `amount_in` of `token_in` to
     `payee(token_in, token_out)` (this adapter) and calls `swap` in the
     same transaction. The adapter then lets the Vault pull exactly
     `amount_in` from it (`FundManagement.sender = self`) and has the Vault
     send the output straight to `receiver`. It pulls nothing from the
     caller and holds nothing between calls, so it keeps no balance to
     protect: tokens someone leaves here are sold by whoever calls `swap`
     next, which is why the transfer and the swap must be atomic.
     The pool's tokens are read from the Vault at deploy (a registered
     pool's token list cannot change for weighted pools) and kept as an
     immutable, so the pair check reads no storage. Quoting views pass the
     Vault's and pool's state through for the off-chain snapshot
     (`ballast.balancer_v2.snapshot`).
"""

from ethereum.ercs import IERC20
from interfaces import IVenue

implements: IVenue


# @dev Balancer's pools hold at most 8 tokens (weighted pools: 8).
MAX_POOL_TOKENS: constant(uint256) = 8
# @dev IVault.SwapKind.GIVEN_IN.
GIVEN_IN: constant(uint8) = 0
# @dev Revert data of Balancer's SWAP_LIMIT (`Error("BAL#507")`), the
#      Vault's own min-out check; translated to this module's reason.
BAL_507: constant(Bytes[100]) = x"08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000742414c2335303700000000000000000000000000000000000000000000000000"
# @dev Revert data bubbled up from the Vault is cut to this size.
MAX_REVERT: constant(uint256) = 1024


struct SingleSwap:
    poolId: bytes32
    kind: uint8
    assetIn: address
    assetOut: address
    amount: uint256
    userData: Bytes[1]


struct FundManagement:
    sender: address
    fromInternalBalance: bool
    recipient: address
    toInternalBalance: bool


interface IBalancerVault:
    def getPool(poolId: bytes32) -> (address, uint8): view
    def getPoolTokens(poolId: bytes32) -> (DynArray[address, MAX_POOL_TOKENS], DynArray[uint256, MAX_POOL_TOKENS], uint256): view


interface IWeightedPool:
    def getNormalizedWeights() -> DynArray[uint256, MAX_POOL_TOKENS]: view
    def getScalingFactors() -> DynArray[uint256, MAX_POOL_TOKENS]: view
    def getSwapFeePercentage() -> uint256: view


# @dev The Balancer V2 Vault that holds the pool's balances.
vault: public(immutable(address))
# @dev The one pool this adapter trades.
pool_id: public(immutable(bytes32))
# @dev The pool's contract (weights, fee, scaling factors).
pool: public(immutable(address))
# @dev The pool's tokens in the Vault's order, read at deploy.
tokens: immutable(DynArray[address, MAX_POOL_TOKENS])


event Swap:
    sender: indexed(address)
    token_in: indexed(address)
    token_out: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: address


@deploy
def __init__(vault_: address, pool_id_: bytes32):
    """
    @notice Trade the Balancer pool `pool_id_` of `vault_`.
    @dev Reverts inside the Vault (BAL#500) if the pool is not registered.
    @param vault_ The Balancer V2 Vault.
    @param pool_id_ The pool's id in that Vault.
    """
    assert vault_ != empty(address), "balancer_v2: zero vault"
    vault = vault_
    pool_id = pool_id_
    pool_: address = empty(address)
    specialization: uint8 = 0
    pool_, specialization = staticcall IBalancerVault(vault_).getPool(pool_id_)
    pool = pool_
    tokens_: DynArray[address, MAX_POOL_TOKENS] = []
    balances: DynArray[uint256, MAX_POOL_TOKENS] = []
    last_change: uint256 = 0
    tokens_, balances, last_change = staticcall IBalancerVault(vault_).getPoolTokens(pool_id_)
    tokens = tokens_


@nonreentrant
@external
def swap(
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    receiver: address,
) -> uint256:
    """
    @notice Sell exactly `amount_in` of `token_in`, which the caller has
            already transferred to this adapter in this transaction, for at
            least `min_amount_out` of `token_out`, delivered to `receiver`.
    @dev The Vault pulls `amount_in` from this adapter and pays `receiver`
         directly, so the adapter ends holding what it held before (0).
         The Vault is approved for `token_in` once, with the maximum, the
         first time the adapter sells it: the adapter never holds tokens
         between calls, so a standing allowance to the Vault puts nothing
         at risk, and no swap after the first pays for an approval.
    @param token_in The token sold (already sent to `payee`).
    @param token_out The token bought.
    @param amount_in The exact input, in `token_in` base units.
    @param min_amount_out The least output accepted (the Vault's `limit`).
    @param receiver Who receives the output.
    @return The output amount, as the Vault computed and sent it.
    """
    assert amount_in > 0, "balancer_v2: zero amount"
    assert token_in != token_out, "balancer_v2: same token"
    assert self._in_pool(token_in) and self._in_pool(token_out), "balancer_v2: token not in pool"
    if staticcall IERC20(token_in).allowance(self, vault) < amount_in:
        # Only on the first sale of `token_in` (standard tokens never lower a max allowance).
        assert extcall IERC20(token_in).approve(vault, max_value(uint256), default_return_value=True)
    single: SingleSwap = SingleSwap(
        poolId=pool_id,
        kind=GIVEN_IN,
        assetIn=token_in,
        assetOut=token_out,
        amount=amount_in,
        userData=b"",
    )
    funds: FundManagement = FundManagement(
        sender=self, fromInternalBalance=False, recipient=receiver, toInternalBalance=False
    )
    ok: bool = False
    response: Bytes[MAX_REVERT] = b""
    ok, response = raw_call(
        vault,
        abi_encode(
            single,
            funds,
            min_amount_out,
            block.timestamp,
            method_id=method_id(
                "swap((bytes32,uint8,address,address,uint256,bytes),(address,bool,address,bool),uint256,uint256)"
            ),
        ),
        max_outsize=MAX_REVERT,
        revert_on_failure=False,
    )
    if not ok:
        # The Vault's own limit check (BAL#507) gets this module's reason; anything else bubbles up.
        assert keccak256(response) != keccak256(BAL_507), "balancer_v2: insufficient output"
        raw_revert(response)
    amount_out: uint256 = abi_decode(response, uint256)
    # Checked here as well, not only by the Vault's `limit`.
    assert amount_out >= min_amount_out, "balancer_v2: insufficient output"
    log Swap(
        sender=msg.sender,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
        amount_out=amount_out,
        receiver=receiver,
    )
    return amount_out


@view
@external
def payee(token_in: address, token_out: address) -> address:
    """
    @notice Where a caller sends `amount_in` of `token_in` before `swap`.
    @param token_in The token to sell.
    @param token_out The token to buy.
    @return This adapter, or empty(address) unless the pool holds both
            (distinct) tokens.
    """
    if token_in == token_out or not (self._in_pool(token_in) and self._in_pool(token_out)):
        return empty(address)
    return self


@view
@external
def pool_tokens() -> (DynArray[address, MAX_POOL_TOKENS], DynArray[uint256, MAX_POOL_TOKENS]):
    """
    @notice The pool's tokens and the Vault's raw balances of them
            (`Vault.getPoolTokens`), in the Vault's order.
    @return The tokens and their balances.
    """
    pool_tokens_: DynArray[address, MAX_POOL_TOKENS] = []
    balances: DynArray[uint256, MAX_POOL_TOKENS] = []
    last_change: uint256 = 0
    pool_tokens_, balances, last_change = staticcall IBalancerVault(vault).getPoolTokens(pool_id)
    return pool_tokens_, balances


@view
@external
def normalized_weights() -> DynArray[uint256, MAX_POOL_TOKENS]:
    """
    @notice The pool's normalized weights (WAD, summing to 1e18), in the Vault's token order.
    @return The weights.
    """
    return staticcall IWeightedPool(pool).getNormalizedWeights()


@view
@external
def scaling_factors() -> DynArray[uint256, MAX_POOL_TOKENS]:
    """
    @notice The pool's scaling factors (1e18 * 10**(18 - decimals) without rate providers).
    @return The factors, in the Vault's token order.
    """
    return staticcall IWeightedPool(pool).getScalingFactors()


@view
@external
def swap_fee() -> uint256:
    """
    @notice The pool's swap fee (WAD: 1e16 is 1%), taken from the input.
    @return The fee.
    """
    return staticcall IWeightedPool(pool).getSwapFeePercentage()


@internal
@view
def _in_pool(token: address) -> bool:
    for t: address in tokens:
        if t == token:
            return True
    return False
