"""Deployable contracts from npm packages' build artifacts (Chainlink, Uniswap, ...).

Each package ships its compiled contracts as JSON; this module turns one into an ape contract
container, so the real bytecode is deployed on a local chain, not a re-implementation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ethpm_types import ContractType

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code


@dataclass(frozen=True)
class Artifact:
    """One contract of an npm artifact: its name, ABI (JSON entries) and hex bytecodes."""

    name: str
    abi: list[dict]
    bytecode: str  # creation code, 0x-prefixed
    runtime: str | None  # deployed code, 0x-prefixed, when the artifact has it


@cache
def load(package: str, path: str) -> Artifact:
    """The ABI and bytecode of ``node_modules/<package>/<path>``, as plain JSON: what any EVM
    (ape's, or the fuzzer's revm in :mod:`ballast.fuzz.revm_env`) deploys.

    Reads either layout: solc's ``evm.bytecode.object`` (under ``compilerOutput`` for truffle
    exports) or a top-level ``bytecode`` (waffle builds, hardhat artifacts).
    """
    file = NODE_MODULES / package / path
    if not file.exists():
        raise FileNotFoundError(f"{file}: missing; run `npm ci` (package.json pins {package})")
    data = json.loads(file.read_text())
    output = data.get("compilerOutput", data)
    evm = output.get("evm", {})
    deploy = evm.get("bytecode", {}).get("object") or data.get("bytecode")
    runtime = evm.get("deployedBytecode", {}).get("object") or data.get("deployedBytecode")
    return Artifact(file.stem, output["abi"], _hex(deploy), _hex(runtime) if runtime else None)


@cache
def contract_type(package: str, path: str) -> ContractType:
    """The artifact of :func:`load` as an ethpm ``ContractType`` (what ape deploys)."""
    art = load(package, path)
    fields = {"contractName": art.name, "abi": art.abi, "deploymentBytecode": {"bytecode": art.bytecode}}
    if art.runtime:
        fields["runtimeBytecode"] = {"bytecode": art.runtime}
    return ContractType.model_validate(fields)


def container(package: str, path: str):
    """An ape contract container (``.deploy``, ``.at``) for an npm artifact."""
    from ape.contracts import ContractContainer

    return ContractContainer(contract_type(package, path))
