"""A real lending market with borrowers: Morpho Blue 1.0.0 and the ERC-4626 supply vault over it.

The four paths of issue 12 that a lender's share price takes: 100 % utilisation blocks redemption,
interest accrues to suppliers over time, a crash and liquidation realise bad debt to suppliers at
once, and donations (to the vault, to Morpho, or supplied on the vault's behalf) do what they do.
"""

from __future__ import annotations

import ape
import pytest

from ballast.chain.morpho import liquidation, oracle_price

USDC = 10**6  # the loan token of the `morpho_market` fixture has 6 decimals
WETH_PRICE = 3_000

YEAR = 365 * 86_400
DEPOSIT = 1_000_000 * USDC


def test_deploy__market_created__params_and_vault_face(morpho_market):
    m = morpho_market
    assert m.state().lastUpdate > 0
    assert tuple(m.morpho.idToMarketParams(m.id)) == m.params
    assert m.vault.asset() == m.loan.address
    assert m.vault.MORPHO() == m.morpho.address
    assert m.vault.decimals() == 18  # 6 + MetaMorpho's offset of 12
    assert m.oracle.price() == oracle_price(WETH_PRICE, 6, 18) == 3_000 * 10**24
    assert len(m.morpho.code) > 15_000  # the real Morpho's runtime, not a stand-in


def test_deposit__supplies_to_market__total_assets_is_expected_supply(supplied_market, lender):
    m = supplied_market
    assert m.vault.totalAssets() == DEPOSIT
    assert m.state().totalSupplyAssets == DEPOSIT
    assert m.position(m.vault).supplyShares > 0
    assert m.loan.balanceOf(m.vault) == 0  # nothing idle: all of it is lent
    assert m.vault.maxWithdraw(lender) == DEPOSIT
    assert m.vault.maxRedeem(lender) == m.vault.balanceOf(lender)


def test_redeem__partial_utilisation__max_withdraw_is_liquidity(supplied_market, lender, borrower):
    m = supplied_market
    m.borrow(borrower, 600_000 * USDC)
    assert m.utilisation() == pytest.approx(0.6)
    assert m.vault.maxWithdraw(lender) == m.liquidity() == 400_000 * USDC
    shares = m.vault.maxRedeem(lender)
    assert m.vault.previewRedeem(shares) <= m.liquidity()
    # Read a block earlier, maxRedeem is NOT redeemable: by the next block interest has raised the
    # share price while the liquidity (supply minus borrow, both accruing) has not moved, so fewer
    # shares fit in it. A caller must read maxRedeem in its own transaction (as a vault does).
    with ape.reverts(m.vault.ERC4626ExceededMaxRedeem):
        m.vault.redeem(shares, lender, lender, sender=lender)
    # maxWithdraw (in assets) is the liquidity itself, which the next block leaves unchanged.
    m.vault.withdraw(m.vault.maxWithdraw(lender), lender, lender, sender=lender)
    assert m.liquidity() == 0
    assert m.vault.maxRedeem(lender) == 0


def test_redeem__full_utilisation__max_redeem_zero_and_redeem_reverts(supplied_market, lender, borrower):
    m = supplied_market
    m.borrow_all(borrower)
    assert m.utilisation() == 1
    assert m.liquidity() == 0
    assert m.vault.maxRedeem(lender) == 0
    assert m.vault.maxWithdraw(lender) == 0
    shares = m.vault.balanceOf(lender)
    with ape.reverts(m.vault.ERC4626ExceededMaxRedeem):
        m.vault.redeem(shares, lender, lender, sender=lender)
    with ape.reverts(m.vault.ERC4626ExceededMaxWithdraw):
        m.vault.withdraw(1, lender, lender, sender=lender)
    # The lender's claim is intact, only illiquid: a repayment frees it.
    assert m.vault.convertToAssets(shares) >= DEPOSIT  # plus the interest of the last blocks
    m.repay_all(borrower)
    assert m.vault.maxRedeem(lender) == shares


def test_interest__full_utilisation_one_year__share_price_rises_by_borrowers_interest(
    supplied_market, lender, borrower, chain
):
    m = supplied_market
    m.borrow_all(borrower)
    before = m.share_price()
    borrow_before = m.state().totalBorrowAssets
    m.accrue(chain, YEAR)
    after = m.share_price()
    interest = m.state().totalBorrowAssets - borrow_before
    # IrmMock: 100 % utilisation is 100 % APR, compounded (Morpho's 3-term Taylor e^1 - 1 = 1.667).
    assert interest == pytest.approx(DEPOSIT * 1.6667, rel=1e-3)
    # No fee: all of it to suppliers (to Morpho's rounding, a few wei).
    assert m.vault.totalAssets() == pytest.approx(DEPOSIT + interest, abs=10)
    assert after > before
    assert after / before == pytest.approx(2.6667, rel=1e-3)


def test_interest__views_accrue_without_transaction(supplied_market, borrower, chain):
    m = supplied_market
    m.borrow(borrower, 500_000 * USDC)
    before = m.vault.totalAssets()
    chain.mine(1, deltatime=30 * 86_400)  # no call to Morpho: the 4626 views compute accrual
    assert m.vault.totalAssets() > before
    assert m.state().totalSupplyAssets == DEPOSIT  # Morpho's storage has not accrued yet


def test_liquidation__crash_leaves_bad_debt__share_price_falls_in_same_tx(
    supplied_market, lender, borrower, liquidator
):
    m = supplied_market
    m.borrow_all(borrower, health="1.2")  # collateral worth 1.2 / 0.86 of the debt
    m.crash("0.5")  # now worth 0.698 of it: under water
    before = m.vault.totalAssets()
    price_before = m.share_price()
    receipt = m.liquidate(liquidator, borrower)
    event = liquidation(receipt)
    assert event["badDebtAssets"] > 0
    assert m.position(borrower).collateral == 0
    assert m.position(borrower).borrowShares == 0
    # Realised to suppliers in the liquidation itself: the vault (the only supplier) loses all of it.
    # (Up to the one second of interest the liquidation accrued first.)
    assert m.vault.totalAssets() == pytest.approx(before - event["badDebtAssets"], rel=1e-6)
    assert m.share_price() < price_before
    loss = 1 - m.share_price() / price_before
    # The seized collateral is worth 1.2 / 0.86 * 0.5 = 0.698 of the debt, and repays that over the
    # liquidation incentive, LIF = 1 / (1 - 0.3 * (1 - 0.86)) = 1.0438; the rest is bad debt.
    lif = m.liquidation_incentive() / 10**18
    assert lif == pytest.approx(1 / (1 - 0.3 * 0.14))
    assert loss == pytest.approx(1 - 1.2 / 0.86 * 0.5 / lif, rel=1e-4)
    # What the liquidation repaid is liquid again: the lender can take it out.
    assert m.vault.maxWithdraw(lender) == m.liquidity() > 0


def test_donation__to_vault_or_to_morpho__convert_to_assets_unchanged(supplied_market, attacker):
    m = supplied_market
    one = 10**18
    before = m.vault.convertToAssets(one)
    m.loan.mint(attacker, 100_000 * USDC, sender=m.owner)
    m.loan.transfer(m.vault, 50_000 * USDC, sender=attacker)  # not counted: no idle bucket
    assert m.vault.convertToAssets(one) == before
    m.loan.transfer(m.morpho, 50_000 * USDC, sender=attacker)  # Morpho counts its books, not balanceOf
    assert m.vault.convertToAssets(one) == before
    assert m.state().totalSupplyAssets == DEPOSIT


def test_donation__supplied_on_vault_behalf__convert_to_assets_jumps(supplied_market, attacker):
    m = supplied_market
    one = 10**18
    before = m.vault.convertToAssets(one)
    m.supply(attacker, 100_000 * USDC, on_behalf=m.vault)  # Morpho lets anyone supply for anyone
    after = m.vault.convertToAssets(one)
    # A 10 % donation is a 10 % jump of the share price, in one transaction: what a lender's
    # valuation of these shares has to bound.
    assert after / before == pytest.approx(1.1, rel=1e-6)


def test_cap__deposit_beyond_cap__reverts(make_morpho_market, lender):
    m = make_morpho_market(cap=1_000 * USDC)
    m.deposit(lender, 600 * USDC)
    assert m.vault.maxDeposit(lender) == 400 * USDC
    m.loan.mint(lender, 500 * USDC, sender=m.owner)
    with ape.reverts(m.vault.ERC4626ExceededMaxDeposit):
        m.vault.deposit(500 * USDC, lender, sender=lender)
    m.vault.deposit(400 * USDC, lender, sender=lender)
    assert m.vault.maxDeposit(lender) == 0
    assert m.vault.maxMint(lender) == 0


def test_gas__supply_and_withdraw_through_4626(supplied_market, lender, bob, alice):
    m = supplied_market
    first = m.deposit(bob, 10_000 * USDC).gas_used  # bob's first: new share balance, warm market
    warm = m.deposit(bob, 10_000 * USDC).gas_used
    withdraw = m.vault.withdraw(5_000 * USDC, bob, bob, sender=bob).gas_used
    redeem = m.vault.redeem(m.vault.balanceOf(bob), bob, bob, sender=bob).gas_used
    # The reference, in the same run: the same moves on Morpho directly (alice's own position).
    direct_first = m.supply(alice, 10_000 * USDC).gas_used
    direct_warm = m.supply(alice, 10_000 * USDC).gas_used
    direct_withdraw = m.morpho.withdraw(m.params, 5_000 * USDC, 0, alice, alice, sender=alice).gas_used
    print(
        f"\n4626 over Morpho gas: deposit first {first}, warm {warm}; withdraw {withdraw}; redeem all {redeem}"
        f"\nMorpho directly:      supply first {direct_first}, warm {direct_warm}; withdraw {direct_withdraw}"
    )
    assert 0 < warm <= first < 250_000
    assert 0 < withdraw < 250_000 and 0 < redeem < 250_000
    assert direct_warm < warm and direct_withdraw < withdraw  # the face costs something on top


@pytest.mark.parametrize("borrowed", [0, 500_000, 990_000, 1_000_000])
@pytest.mark.parametrize("exit_fn", ["redeemMax", "withdrawMax"])
def test_max_exit__any_utilisation__same_tx_max_is_payable(
    make_morpho_market, project, owner, lender, borrower, chain, borrowed, exit_fn
):
    """Read in the exiting transaction, maxRedeem and maxWithdraw are always payable, at any
    utilisation and after interest has accrued; what is paid is the market's liquidity at most."""
    m = make_morpho_market()
    holder = project.MaxExit.deploy(sender=owner)
    m.deposit(lender, DEPOSIT, receiver=holder)
    if borrowed:
        m.borrow(borrower, borrowed * USDC)
    chain.mine(1, deltatime=30 * 86_400)
    liquidity = m.liquidity()
    before = m.loan.balanceOf(lender)
    getattr(holder, exit_fn)(m.vault, lender, sender=lender)  # never reverts
    paid = m.loan.balanceOf(lender) - before
    assert paid <= liquidity
    assert paid >= liquidity - 2 or m.vault.balanceOf(holder) == 0  # all it could take, to rounding
    if borrowed == 1_000_000:
        assert paid == 0
