"""A real lending market on a local chain: Morpho Blue, its rate model and oracle mocks, one
market, and an ERC-4626 supply vault over it (what a Ballast vault lends into).

Morpho Blue is ``@morpho-org/morpho-blue@1.0.0``'s own ``Morpho`` compiled by ape from the npm
source (``contracts/test/MorphoBlue.sol`` only names it), with the package's ``IrmMock`` (x %
utilisation is x % APR) and ``OracleMock`` (a settable price). ``MorphoSupplyVault`` stands in for
MetaMorpho (not in the registries): OpenZeppelin 5.0.2's ERC4626 over one market.

:func:`deploy_market` builds everything; the :class:`MorphoMarket` it returns drives the market the
way its users do: lenders supply, a borrower pushes utilisation to 100 %, time passes and interest
accrues, the collateral price crashes and a liquidator seizes all the collateral, which leaves bad
debt that Morpho realises to the suppliers at once (``totalSupplyAssets`` falls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from eth_abi import decode, encode
from eth_utils import keccak

WAD = 10**18
# Morpho's oracle price: loan-token base units per collateral base unit, times 1e36.
ORACLE_PRICE_SCALE = 10**36
MAX_UINT256 = 2**256 - 1
# Morpho's liquidation incentive: min(1.15, 1 / (1 - 0.3 * (1 - LLTV))) (ConstantsLib).
LIQUIDATION_CURSOR = 3 * 10**17
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16
DEFAULT_LLTV = 86 * 10**16  # 86 %: one of mainnet Morpho's enabled LLTVs


def oracle_price(price: float | int | str, loan_decimals: int, collateral_decimals: int) -> int:
    """Morpho's oracle value for ``price`` loan tokens per collateral token (whole tokens)."""
    scaled = Fraction(str(price)) * ORACLE_PRICE_SCALE * 10**loan_decimals / 10**collateral_decimals
    return int(scaled)


def market_id(params: tuple) -> bytes:
    """Morpho's ``Id`` of a market: keccak256 of the ABI-encoded ``MarketParams``."""
    return keccak(encode(["address", "address", "address", "address", "uint256"], params))


def metamorpho_offset(decimals: int) -> int:
    """MetaMorpho's decimals offset for a loan token of ``decimals`` (18 - decimals, at least 0)."""
    return max(0, 18 - decimals)


# Morpho's events are declared in EventsLib; solc 0.8.19 leaves library events out of the contract's
# ABI, so ape cannot decode them by name: this is the Liquidate log's signature and data layout.
LIQUIDATE_TOPIC = keccak(text="Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)")
LIQUIDATE_FIELDS = ("repaidAssets", "repaidShares", "seizedAssets", "badDebtAssets", "badDebtShares")


def liquidation(receipt) -> dict:
    """The ``Liquidate`` event of a liquidation receipt, decoded: ``badDebtAssets`` is what the
    suppliers lost in that transaction."""
    for log in receipt.logs:
        topics = [bytes(t) for t in log["topics"]]
        if topics and topics[0] == LIQUIDATE_TOPIC:
            values = decode(["uint256"] * len(LIQUIDATE_FIELDS), bytes(log["data"]))
            return dict(zip(LIQUIDATE_FIELDS, values))
    raise ValueError("no Liquidate event in the receipt")


def deploy_morpho(project, owner):
    """Morpho Blue (owned by ``owner``) and its mock rate model, enabled; returns ``(morpho, irm)``."""
    morpho = project.MorphoBlue.deploy(owner, sender=owner)
    irm = project.MorphoIrmMock.deploy(sender=owner)
    morpho.enableIrm(irm, sender=owner)
    return morpho, irm


@dataclass
class MorphoMarket:
    """One Morpho Blue market and the ERC-4626 supply vault over it, with the market's actors' moves."""

    project: object
    owner: object
    morpho: object
    irm: object
    oracle: object
    loan: object
    collateral: object
    lltv: int
    vault: object
    borrowers: list = field(default_factory=list)

    @property
    def params(self) -> tuple:
        """``MarketParams`` as the tuple Morpho's functions take."""
        return (
            str(self.loan.address),
            str(self.collateral.address),
            str(self.oracle.address),
            str(self.irm.address),
            self.lltv,
        )

    @property
    def id(self) -> bytes:
        return market_id(self.params)

    # -- reads --------------------------------------------------------------------------------

    def state(self):
        """Morpho's stored ``Market`` (as of its last accrual): totals, ``lastUpdate``, ``fee``."""
        return self.morpho.market(self.id)

    def position(self, account):
        return self.morpho.position(self.id, account)

    def utilisation(self) -> Fraction:
        """Stored borrow over stored supply (0 for an empty market)."""
        m = self.state()
        return Fraction(m.totalBorrowAssets, m.totalSupplyAssets) if m.totalSupplyAssets else Fraction(0)

    def liquidity(self) -> int:
        """Loan tokens the market can pay out now (interest accrued to the latest block)."""
        return int(self.vault.availableLiquidity())

    def share_price(self, shares: int | None = None) -> int:
        """``convertToAssets`` of one whole vault share (or of ``shares``)."""
        return int(self.vault.convertToAssets(shares if shares is not None else 10 ** self.vault.decimals()))

    # -- the owner ----------------------------------------------------------------------------

    def set_price(self, price: float | int | str) -> int:
        """Set the oracle to ``price`` loan tokens per collateral token; returns the raw value."""
        raw = oracle_price(price, self.loan.decimals(), self.collateral.decimals())
        self.oracle.setPrice(raw, sender=self.owner)
        return raw

    def crash(self, factor: float | str) -> int:
        """Multiply the oracle price by ``factor`` (0.3: a 70 % crash); returns the new raw value."""
        raw = int(Fraction(int(self.oracle.price())) * Fraction(str(factor)))
        self.oracle.setPrice(raw, sender=self.owner)
        return raw

    # -- lenders ------------------------------------------------------------------------------

    def _fund(self, token, account, amount: int, spender) -> None:
        token.mint(account, amount, sender=self.owner)
        token.approve(spender, MAX_UINT256, sender=account)

    def deposit(self, account, assets: int, receiver=None):
        """Mint ``assets`` loan tokens to ``account`` and deposit them through the 4626 face."""
        self._fund(self.loan, account, assets, self.vault)
        return self.vault.deposit(assets, receiver or account, sender=account)

    def supply(self, account, assets: int, on_behalf=None):
        """Mint and supply ``assets`` to Morpho directly (for ``on_behalf``, default the account)."""
        self._fund(self.loan, account, assets, self.morpho)
        return self.morpho.supply(self.params, assets, 0, on_behalf or account, b"", sender=account)

    # -- borrowers ----------------------------------------------------------------------------

    def collateral_for(self, assets: int, health: float | str = 2) -> int:
        """Collateral (base units) that backs a borrow of ``assets`` ``health`` times over the LLTV."""
        price = int(self.oracle.price())
        need = Fraction(assets) * ORACLE_PRICE_SCALE * WAD / (price * self.lltv)
        return int(need * Fraction(str(health))) + 1

    def borrow(self, borrower, assets: int, health: float | str = 2):
        """Post collateral for ``health`` x the LLTV and borrow ``assets`` loan tokens."""
        amount = self.collateral_for(assets, health)
        self._fund(self.collateral, borrower, amount, self.morpho)
        self.morpho.supplyCollateral(self.params, amount, borrower, b"", sender=borrower)
        if borrower not in self.borrowers:
            self.borrowers.append(borrower)
        return self.morpho.borrow(self.params, assets, 0, borrower, borrower, sender=borrower)

    def borrow_all(self, borrower, health: float | str = 2):
        """Borrow every loan token the market holds: utilisation 100 %, liquidity 0."""
        self.morpho.accrueInterest(self.params, sender=borrower)
        m = self.state()
        return self.borrow(borrower, m.totalSupplyAssets - m.totalBorrowAssets, health)

    def repay_all(self, borrower):
        """Repay ``borrower``'s whole debt (by shares, so nothing is left)."""
        shares = self.position(borrower).borrowShares
        self.morpho.accrueInterest(self.params, sender=borrower)
        m = self.state()
        owed = -(-shares * (m.totalBorrowAssets + 1) // (m.totalBorrowShares + 10**6))  # toAssetsUp
        self._fund(self.loan, borrower, owed + 1, self.morpho)
        return self.morpho.repay(self.params, 0, shares, borrower, b"", sender=borrower)

    # -- time ---------------------------------------------------------------------------------

    def accrue(self, chain, seconds: int, sender=None):
        """Let ``seconds`` pass, then accrue the market's interest in a mined block."""
        chain.pending_timestamp += seconds
        return self.morpho.accrueInterest(self.params, sender=sender or self.owner)

    # -- liquidators --------------------------------------------------------------------------

    def liquidation_incentive(self) -> int:
        return min(MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD * WAD // (WAD - LIQUIDATION_CURSOR * (WAD - self.lltv) // WAD))

    def liquidate(self, liquidator, borrower):
        """Seize all of ``borrower``'s collateral (the position must be unhealthy). When it is worth
        less than the debt, Morpho realises the rest as bad debt: ``totalSupplyAssets`` falls by it
        in the same transaction. Returns the receipt; its ``Liquidate`` event has ``badDebtAssets``."""
        seized = self.position(borrower).collateral
        self.loan.mint(liquidator, 10**40, sender=self.owner)  # enough for any repayment here
        self.loan.approve(self.morpho, MAX_UINT256, sender=liquidator)
        return self.morpho.liquidate(self.params, borrower, seized, 0, b"", sender=liquidator)


def deploy_market(
    project,
    owner,
    loan,
    collateral,
    price: float | int | str = 1,
    lltv: int = DEFAULT_LLTV,
    cap: int | None = None,
    decimals_offset: int | None = None,
    morpho=None,
    irm=None,
) -> MorphoMarket:
    """A Morpho Blue market lending ``loan`` against ``collateral`` at ``price`` loan tokens per
    collateral token and ``lltv`` (WAD), with a ``MorphoSupplyVault`` over it (``cap`` on its
    total assets, None for none; decimals offset MetaMorpho's by default). Deploys Morpho and the
    rate model unless given ``morpho`` and ``irm``."""
    if morpho is None:
        morpho, irm = deploy_morpho(project, owner)
    if not morpho.isLltvEnabled(lltv):
        morpho.enableLltv(lltv, sender=owner)
    oracle = project.MorphoOracleMock.deploy(sender=owner)
    oracle.setPrice(oracle_price(price, loan.decimals(), collateral.decimals()), sender=owner)
    params = (str(loan.address), str(collateral.address), str(oracle.address), str(irm.address), lltv)
    morpho.createMarket(params, sender=owner)
    offset = metamorpho_offset(loan.decimals()) if decimals_offset is None else decimals_offset
    symbol = loan.symbol()
    vault = project.MorphoSupplyVault.deploy(
        morpho,
        params,
        MAX_UINT256 if cap is None else cap,
        offset,
        f"Morpho {symbol} supply",
        f"m{symbol}"[:11],
        sender=owner,
    )
    return MorphoMarket(project, owner, morpho, irm, oracle, loan, collateral, lltv, vault)
