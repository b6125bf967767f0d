"""ERC-20 tokens read through the standard interface's ABI, not a test double's.

A keeper pointed at a real token must not depend on the ABI of ``MockERC20`` (whose extra
functions a real token does not have); these are the ERC-20 functions Ballast calls, with the
optional ``name``, ``symbol`` and ``decimals`` of EIP-20's metadata.
"""

from __future__ import annotations

from ethpm_types import ContractType


def _fn(name: str, inputs: list[tuple[str, str]], output: str, mutability: str = "view") -> dict:
    return {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": output}],
    }


ERC20_ABI = [
    _fn("name", [], "string"),
    _fn("symbol", [], "string"),
    _fn("decimals", [], "uint8"),
    _fn("totalSupply", [], "uint256"),
    _fn("balanceOf", [("owner", "address")], "uint256"),
    _fn("allowance", [("owner", "address"), ("spender", "address")], "uint256"),
    _fn("transfer", [("to", "address"), ("value", "uint256")], "bool", "nonpayable"),
    _fn("transferFrom", [("from", "address"), ("to", "address"), ("value", "uint256")], "bool", "nonpayable"),
    _fn("approve", [("spender", "address"), ("value", "uint256")], "bool", "nonpayable"),
]
ERC20 = ContractType.model_validate({"contractName": "ERC20", "abi": ERC20_ABI})


def token_at(address: str):
    """An ape instance of the ERC-20 at ``address``, with the standard ABI only."""
    from ape.contracts import ContractInstance

    return ContractInstance(str(address), ERC20)
