"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against the
page served by ballast.dashboard over a vault on anvil (tests/browser/stack.py: deployed,
rebalanced twice, lending into Morpho Blue).

Skipped, in one line, only when Chromium is not installed and CI is not set; under CI a missing
browser fails. ``BALLAST_DASHBOARD_SCREENSHOTS=docs`` also saves the README's screenshots there.
"""

from __future__ import annotations

import os
import shutil
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
from dashboard_stack import ALICE, ANVIL_BIN, BOB, DEPLOYER, anvil_env, build, free_port

from ballast.constants import RATE_SHARES, WAD
from ballast.dashboard.server import serve
from ballast.depositor import entries, reverts

CHROMIUM = os.environ.get("BALLAST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("BALLAST_DASHBOARD_SCREENSHOTS")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    # One line for the whole module; under CI a missing browser is a failure, not a skip.
    _MISSING = f"{CHROMIUM} is missing: apt-get install chromium (bash .ci/run installs it)"
    if _in_ci():
        pytest.fail(f"CI: browser tests cannot run: {_MISSING}", pytrace=False)
    pytest.skip(f"browser tests skipped: {_MISSING}", allow_module_level=True)


@pytest.fixture(scope="module")
def chromium() -> str:
    return CHROMIUM


@pytest.fixture(scope="module")
def anvil(chromium, networks):
    """ape on a fresh anvil for this module (ape's isolation restores its state after each test)."""
    if not (ANVIL_BIN / "anvil").exists():
        if _in_ci():
            pytest.fail(f"CI: {ANVIL_BIN / 'anvil'} is missing")
        pytest.skip(f"{ANVIL_BIN / 'anvil'} is missing: run `npm ci --no-audit --no-fund` (or `make test`)")
    with pytest.MonkeyPatch.context() as monkeypatch:
        anvil_env(monkeypatch)
        settings = {"host": f"http://127.0.0.1:{free_port()}", "evm_version": "cancun"}
        with networks.ethereum.local.use_provider(
            "foundry", provider_settings=settings, disconnect_after=True
        ) as provider:
            yield provider


@pytest.fixture(scope="module")
def stack(anvil, project, chain, accounts, tmp_path_factory):
    return build(project, anvil, chain, accounts, tmp_path_factory.mktemp("deployments"))


@pytest.fixture(scope="module")
def dashboard(stack, anvil):
    server = serve(stack.target, anvil, free_port())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, dashboard):
    """The dashboard, loaded; a script error on the page fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(dashboard.url)
    page.wait_for_selector("body[data-loaded]")
    yield page
    context.close()
    assert errors == []


# ---------------------------------------------------------------------------- helpers


def units(raw: int, decimals: int, places: int) -> str:
    """The page's number format: exact, rounded half up to ``places``, thousands separators."""
    with localcontext() as ctx:
        ctx.prec = 100
        value = Decimal(raw).scaleb(-decimals).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return f"{value:,.{places}f}"


def raw(page, selector: str) -> int:
    return int(page.locator(selector).get_attribute("data-raw"))


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def loads(page) -> int:
    return int(page.evaluate("document.body.dataset.loaded"))


def choose_account(page, option: int, address: str) -> None:
    page.select_option("#account", index=option)
    page.wait_for_selector(f'#account-table tr[data-address="{address}"]')


def submit_with_keyboard(page, field: str, value: str) -> None:
    """Type into ``field`` and press Enter (the form submits: a preview); then Enter on the focused Send."""
    page.focus(field)
    page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview:not([hidden])")


def send_with_keyboard(page) -> None:
    before = loads(page)
    assert page.evaluate("document.activeElement.id") == "send"
    page.keyboard.press("Enter")
    page.wait_for_function(f"Number(document.body.dataset.loaded) > {before}", timeout=60_000)


def holdings(stack, address) -> list[int]:
    """Shares, then each basket token, of ``address`` on the chain."""
    vault = stack.target.vault
    return [int(vault.balanceOf(address))] + [int(t.balanceOf(address)) for t in stack.target.tokens]


def shot(page, name: str, selector: str | None = None) -> None:
    if SCREENSHOTS:
        path = Path(SCREENSHOTS) / name
        (page.locator(selector).screenshot(path=path) if selector else page.screenshot(path=path, full_page=True))


# ---------------------------------------------------------------------------- tests


def test_dashboard__rebalanced_vault__figures_equal_the_lens(page, stack, chain):
    target = stack.target
    vault, lens = target.vault, target.lens
    total, supply = int(lens.total_value(vault)), int(vault.totalSupply())
    assert raw(page, "#total-value") == total and text(page, "#total-value") == "$" + units(total, 18, 2)
    assert raw(page, "#total-supply") == supply and text(page, "#total-supply") == units(supply, 18, 6) + " shares"
    assert raw(page, "#nav-per-share") == total * WAD // supply
    assert text(page, "#nav-per-share") == f"${units(total * WAD // supply, 18, 6)} per share"

    view = lens.snapshot(vault)
    weights, drifts = [int(w) for w in lens.current_weights(vault)], [int(d) for d in lens.drifts(vault)]
    idle, lent_shares = lens.preview_exit(vault, WAD), lens.preview_exit_lent(vault, WAD)
    lent = [int(x) for x in lens.lent(vault)]
    bundle = 0
    for i, a in enumerate(view.assets):
        row = f'#basket-table tr[data-asset="{target.symbols[i]}"]'

        def field(name, row=row):
            return f'{row} td[data-field="{name}"]'

        assert raw(page, field("balance")) == int(a.balance)
        assert (
            text(page, field("balance"))
            == f"{units(int(a.balance), int(a.decimals), 8 if int(a.decimals) > 8 else int(a.decimals))} {target.symbols[i]}"
        )
        assert raw(page, field("price")) == int(a.price) == int(vault.price(a.asset))
        assert raw(page, field("value")) == int(a.balance) * int(a.price) // 10 ** int(a.decimals)
        assert (
            raw(page, field("weight")) == weights[i] and text(page, field("weight")) == units(weights[i], 16, 2) + " %"
        )
        assert raw(page, field("target")) == int(a.target)
        assert raw(page, field("drift")) == drifts[i]
        assert raw(page, field("outer_band")) == int(a.outer_band_bps)
        scale = int(lens.vol_scale_bps(vault, a.asset))
        assert raw(page, field("band")) == int(a.band_bps) * scale // 10_000
        # The chart draws the same weight and target.
        label = page.locator(f'#weights-chart g[data-asset="{target.symbols[i]}"] text.value').text_content()
        assert label.startswith(f"{units(weights[i], 16, 2)} % (target {units(int(a.target), 16, 2)} %")

        # Exit now: the idle part, plus the lent market shares at the market's own rate.
        rate = int(stack.sleeve.reported_rate(a.asset)) if int(lent_shares[i]) else 0
        amount = int(idle[i]) + int(lent_shares[i]) * rate // RATE_SHARES
        value = amount * int(a.price) // 10 ** int(a.decimals)
        bundle += value
        assert raw(page, f'#exit-table tr[data-asset="{target.symbols[i]}"] td[data-field="amount"]') == amount
        assert raw(page, f'#exit-table tr[data-asset="{target.symbols[i]}"] td[data-field="value"]') == value
    assert raw(page, "#exit-total") == bundle and raw(page, "#exit-nav") == total * WAD // supply
    assert total * WAD // supply - bundle < 10**15  # rounded down per asset: under a tenth of a cent

    # Lending: what the lens says is lent, and the market's own share price growth since the first lend.
    assert page.locator("#lending-table tbody tr").count() == sum(1 for x in lent if x) == 2
    head = chain.blocks.head
    for i, symbol in enumerate(target.symbols):
        if not lent[i]:
            continue
        row = f'#lending-table tr[data-asset="{symbol}"]'
        assert raw(page, f'{row} td[data-field="lent"]') == lent[i]
        first = next(
            log for log in stack.sleeve.Lent.range(0, head.number + 1) if log.asset == target.tokens[i].address
        )
        market = stack.sleeve.market(target.tokens[i].address)
        from ape import Contract

        erc4626 = Contract(market, abi=[_CONVERT_TO_ASSETS])
        then = int(erc4626.convertToAssets(RATE_SHARES, block_id=first.block_number))
        now = int(erc4626.convertToAssets(RATE_SHARES))
        elapsed = head.timestamp - chain.blocks[first.block_number].timestamp
        expected = (now - then) * 10_000 * 31_536_000 // (then * elapsed)
        assert raw(page, f'{row} td[data-field="yield_bps"]') == expected > 0


_CONVERT_TO_ASSETS = {
    "type": "function",
    "name": "convertToAssets",
    "stateMutability": "view",
    "inputs": [{"name": "shares", "type": "uint256"}],
    "outputs": [{"name": "", "type": "uint256"}],
}


def test_dashboard__ledger__lists_every_rebalance_the_chain_emitted(page, stack, chain):
    vault = stack.target.vault
    emitted = list(vault.Rebalanced.range(0, chain.blocks.head.number + 1))
    assert len(emitted) == len(stack.rebalances) == 2
    rows = page.locator("#ledger-table tr.rebalance")
    assert [rows.nth(i).get_attribute("data-tx") for i in range(rows.count())] == [
        str(log.transaction_hash) for log in emitted
    ]
    assert raw(page, "#ledger-summary") == len(emitted)
    for log in emitted:
        tx = str(log.transaction_hash)
        row = f'#ledger-table tr.rebalance[data-tx="{tx}"]'
        receipt = chain.get_receipt(tx)
        assert raw(page, f'{row} td[data-field="gas"]') == receipt.gas_used
        assert raw(page, f'{row} td[data-field="cost"]') == log.cost
        trades = receipt.events.filter(vault.TradeExecuted)
        fills = page.locator(f'#ledger-table tr.fill[data-tx="{tx}"]')
        assert fills.count() == len(trades) > 0
        for j, trade in enumerate(trades):
            cost = int(trade.value_in) - int(trade.value_out)
            assert int(fills.nth(j).locator('td[data-field="fill_cost"]').get_attribute("data-raw")) == cost
            shown = float(fills.nth(j).locator('td[data-field="fill_cost_bps"]').get_attribute("data-raw"))
            assert shown == round(cost * 10_000 / int(trade.value_in), 2)


def test_dashboard__join_then_exit_through_the_page__balances_change_as_the_chain_reports(
    browser, dashboard, page, stack, chain, accounts
):
    target, alice = stack.target, accounts[ALICE]
    vault = target.vault

    # Join 100 shares from the node's unlocked account (the server's relay), by keyboard.
    choose_account(page, ALICE, alice.address)
    before = holdings(stack, alice.address)
    expected_preview = entries.format_action(entries.preview_join(target, alice.address, 100 * WAD))
    submit_with_keyboard(page, "#join-shares", "100")
    assert text(page, "#preview-text") == expected_preview
    send_with_keyboard(page)
    assert text(page, "#act-error") == ""
    tx = page.locator("#act-result").get_attribute("data-tx")
    joined = chain.get_receipt(tx).events.filter(vault.Join)[0]
    after = holdings(stack, alice.address)
    assert int(joined.shares) == 100 * WAD == after[0] - before[0]
    assert [b - a for a, b in zip(after[1:], before[1:])] == [int(x) for x in joined.amounts]
    assert text(page, "#act-result").startswith("join: minted 100.000000 shares, paid ")
    assert page.locator("#act-result").get_attribute("data-amounts") == ",".join(str(x) for x in joined.amounts)
    assert raw(page, '#account-table td[data-field="shares"]') == after[0]
    for symbol, balance in zip(target.symbols, after[1:]):
        assert raw(page, f'#account-table td[data-field="{symbol}"]') == balance
    shot(page, "dashboard.png")

    # Exit 250 shares through an injected EIP-1193 wallet: a stand-in for a browser wallet that
    # holds Alice's account and forwards to the node (anvil signs for its unlocked accounts).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_WALLET.replace("NODE_URL", dashboard.node_url).replace("ACCOUNT", alice.address))
    wallet_page = context.new_page()
    wallet_page.goto(dashboard.url)
    wallet_page.wait_for_selector("body[data-loaded]")
    wallet_page.click("#connect-wallet")
    wallet_page.wait_for_selector(f'#account-table tr[data-address="{alice.address}"]')
    assert wallet_page.locator("#account").input_value() == f"wallet:{alice.address}"
    before = holdings(stack, alice.address)
    submit_with_keyboard(wallet_page, "#exit-shares", "250")
    send_with_keyboard(wallet_page)
    assert text(wallet_page, "#act-error") == ""
    tx = wallet_page.locator("#act-result").get_attribute("data-tx")
    receipt = chain.get_receipt(tx)
    assert receipt.sender == alice.address
    exited = receipt.events.filter(vault.Exit)[0]
    paid = receipt.events.filter(stack.sleeve.ExitPaid)
    assert len(paid) == 2 and not any(p.in_kind for p in paid)  # USDC and WETH, redeemed from the markets
    lent_part = [sum(int(p.assets) for p in paid if p.asset == t.address) for t in target.tokens]
    after = holdings(stack, alice.address)
    assert before[0] - after[0] == int(exited.shares) == 250 * WAD
    assert [b - a for a, b in zip(before[1:], after[1:])] == [int(x) + y for x, y in zip(exited.amounts, lent_part)]
    shown = text(wallet_page, "#act-result")
    assert shown.startswith("exit: burnt 250.000000 shares, received ") and "from lending: " in shown
    assert raw(wallet_page, '#account-table td[data-field="shares"]') == after[0]
    context.close()


_WALLET = """
window.ethereum = {
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return ["ACCOUNT"];
    const response = await fetch("NODE_URL", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: params || [] }) });
    const data = await response.json();
    if (data.error) throw Object.assign(new Error(data.error.message), { code: data.error.code, data: data.error.data });
    return data.result;
  },
};
"""


def test_dashboard__paused_vault__deposit_error_is_a_sentence(page, stack, accounts):
    target, bob, owner = stack.target, accounts[BOB], accounts[DEPLOYER]
    sentence = reverts.explain("vault: paused")
    assert sentence.startswith("The vault is paused: ")

    # Paused before the preview: the preview refuses, with the library's sentence.
    target.vault.pause(sender=owner)
    page.click("#refresh")
    page.wait_for_function("document.getElementById('vault-state').textContent === 'paused'")
    choose_account(page, BOB, bob.address)
    page.select_option("#deposit-asset", "WBTC")
    page.fill("#deposit-amount", "0.5")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_function("document.getElementById('act-error').textContent !== ''")
    assert text(page, "#act-error") == sentence
    assert page.locator("#preview").is_hidden()
    shot(page, "dashboard-paused.png", "#act")

    # Paused between the preview and the send: the node refuses the deposit (its gas estimate
    # reverts), and the page shows the same sentence; Bob's shares are unchanged.
    target.vault.unpause(sender=owner)
    page.fill("#deposit-amount", "0.5")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_selector("#preview:not([hidden])")
    assert page.locator("#tx-list li").count() == 2  # the exact approval, then the deposit
    target.vault.pause(sender=owner)
    shares = int(target.vault.balanceOf(bob.address))
    send_with_keyboard(page)
    assert text(page, "#act-error") == sentence
    assert int(target.vault.balanceOf(bob.address)) == shares


def test_dashboard__stale_feed__page_says_why_it_cannot_read(page, stack, chain):
    from dashboard_stack import DAY, pass_time

    pass_time(chain, DAY + 1)  # past every feed's heartbeat
    page.reload()
    page.wait_for_function("document.getElementById('load-error').textContent !== ''")
    assert text(page, "#load-error") == "Could not read the vault: " + reverts.explain("pricing: stale")
