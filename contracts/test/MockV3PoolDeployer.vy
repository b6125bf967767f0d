# pragma version 0.4.3
"""
@title CREATE2 deployer standing in for a V3 factory (test double)
@custom:contract-name MockV3PoolDeployer
@notice Deploys any creation code at the address a V3 factory would give
        the (token0, token1, fee) pool, so an adapter constructed with this
        deployer and keccak256(code) trusts it. Test use only.
"""


@external
def deploy(code: Bytes[8192], token0: address, token1: address, fee: uint24) -> address:
    """
    @notice CREATE2 `code` with the V3 factory's salt.
    """
    return raw_create(code, salt=keccak256(abi_encode(token0, token1, fee)))
