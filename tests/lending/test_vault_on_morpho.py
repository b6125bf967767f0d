"""A Ballast vault lending into a real Morpho Blue market (through the ERC-4626 supply vault over
it) with real borrowers: the exit at 100 % utilisation, interest reaching holders, and a
liquidation's bad debt lowering the vault's value at once and pausing lending."""

import ape
import pytest

from ballast.chain.deploy import deploy_sleeve
from ballast.chain.morpho import deploy_market, liquidation

USDC_I = 0
RISE_BPS = 10_000  # a 100 %-a-year bound: Morpho's interest here stays far below it
MAX_LOSS_BPS = 100


@pytest.fixture
def on_morpho(seeded, morpho_blue, project, owner, keeper, lender):
    """The default vault ($1M joined) lending half its USDC into a Morpho Blue market lending USDC
    against an 18-decimal collateral, where another lender supplies $1M too."""
    morpho, irm = morpho_blue
    usdc = seeded.tokens[USDC_I]
    collateral = project.MockERC20.deploy("Collateral", "COLL", 18, sender=owner)
    market = deploy_market(project, owner, usdc, collateral, 3_000, morpho=morpho, irm=irm)
    market.deposit(lender, 1_000_000 * 10**6)
    sleeve = deploy_sleeve(project, owner, seeded.vault, {usdc: market.vault}, 0, RISE_BPS, MAX_LOSS_BPS)
    lent = seeded.vault.balances(usdc) // 2
    seeded.vault.lend(usdc, lent, sender=keeper)
    return seeded, market, sleeve, lent


def test_exit__at_full_utilisation__delivers_supply_vault_shares_that_pay_once_repaid(
    on_morpho, lens, keeper, alice, borrower
):
    stack, market, sleeve, _ = on_morpho
    vault, usdc = stack.vault, stack.tokens[USDC_I]
    market.borrow_all(borrower)
    assert market.utilisation() == 1 and market.liquidity() == 0
    assert market.vault.maxRedeem(sleeve) == 0
    with ape.reverts():
        vault.recall(usdc, 1, sender=keeper)  # the market cannot pay: a recall says so

    held, supply, idle = sleeve.market_shares(usdc), vault.totalSupply(), vault.balances(usdc)
    lent_before = lens.lent(vault)[USDC_I]
    shares = vault.balanceOf(alice)
    tx = vault.exit(shares, [0] * len(stack.tokens), alice, sender=alice)
    paid = [e for e in tx.events.filter(sleeve.ExitPaid) if e.asset == usdc.address][0]
    assert paid.in_kind and paid.shares == held * shares // supply
    assert market.vault.balanceOf(alice) == paid.shares
    assert usdc.balanceOf(alice) == idle * shares // supply  # the idle part, in the asset

    # Paid out once the borrower repays, interest included.
    market.repay_all(borrower)
    expected = market.vault.previewRedeem(paid.shares)
    assert expected >= lent_before * paid.shares // held
    before = usdc.balanceOf(alice)
    market.vault.redeem(paid.shares, alice, alice, sender=alice)
    assert usdc.balanceOf(alice) - before == expected


def test_interest__accrues_to_the_vaults_holders(on_morpho, lens, chain, alice, borrower):
    stack, market, sleeve, lent = on_morpho
    vault, usdc = stack.vault, stack.tokens[USDC_I]
    market.borrow(borrower, 1_000_000 * 10**6)  # about 70 % of the market's supply
    value = lens.total_value(vault)
    market.accrue(chain, 30 * 86_400)
    for i, asset in enumerate(stack.spec.assets):  # fresh feeds after the month
        stack.set_price(i, asset.price)
    earned = lens.lent(vault)[USDC_I] - lent
    assert earned > 0
    assert sleeve.counted_rate(usdc) == sleeve.reported_rate(usdc)  # within the bound: all counted
    assert lens.total_value(vault) - value == pytest.approx(earned * 10**12, rel=1e-6)

    # An exit now takes its share of the interest.
    shares = vault.balanceOf(alice) // 10
    idle, held, supply = vault.balances(usdc), sleeve.market_shares(usdc), vault.totalSupply()
    before = usdc.balanceOf(alice)
    vault.exit(shares, [0] * len(stack.tokens), alice, sender=alice)
    received = usdc.balanceOf(alice) - before
    principal = (idle + lent) * shares // supply
    assert received > principal
    assert received == pytest.approx((idle + lent + earned) * shares // supply, rel=1e-6)
    assert held > sleeve.market_shares(usdc)


def test_bad_debt__lowers_the_value_at_once_and_pauses_lending(on_morpho, lens, owner, keeper, borrower, liquidator):
    stack, market, sleeve, _ = on_morpho
    vault, usdc = stack.vault, stack.tokens[USDC_I]
    market.borrow(borrower, 1_000_000 * 10**6, health="1.05")
    value, lent_before = lens.total_value(vault), lens.lent(vault)[USDC_I]
    market.crash("0.5")
    tx = market.liquidate(liquidator, borrower)
    bad_debt = liquidation(tx)["badDebtAssets"]
    assert bad_debt > 0
    lent_after = lens.lent(vault)[USDC_I]
    assert lent_after < lent_before
    # The vault bears its share of the market's loss, in the same block.
    assert lens.total_value(vault) == pytest.approx(value - (lent_before - lent_after) * 10**12, rel=1e-9)
    assert (lent_before - lent_after) / lent_before > MAX_LOSS_BPS / 10_000
    with ape.reverts("sleeve: loss above max"):
        vault.lend(usdc, 10**6, sender=keeper)
    sleeve.acknowledge_loss(usdc, sender=owner)
    vault.lend(usdc, 10**6, sender=keeper)
