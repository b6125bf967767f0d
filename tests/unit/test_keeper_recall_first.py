"""The keeper path's recall-first step (``ballast.keeper.recall_first``), on ape's local network
with a real ERC-4626 market (lending_stack.py): after a donation to the USDC market that the
sleeve does not count yet (a 0 % rate-rise bound), a plan that sells more USDC than the vault
holds idle is refused as decided ("vault: drift grew": the rebalance's own recall realises part of
the uncounted excess, the vault's counted value rises, and the untouched assets sitting at their
targets fall below them). Through the step, the keeper recalls first and plans again: accepted."""

import dataclasses
import logging

import ape
import pytest
from lending_stack import MAX_LOSS_BPS, USDC, WBTC, WETH, add_lending

from ballast import keeper as keeper_path
from ballast.bot import ERROR, FAILED, SENT, KeeperLoop
from ballast.chain.erc20 import token_at
from ballast.constants import MAX_BPS, ROLE_KEEPER, WAD

LINK = 3
# USD shares of the $1M first join, bps: USDC 10 % over its 40 % target, WETH 10 % under its 20 %,
# WBTC and LINK at their targets, so the plan sells USDC for WETH and leaves those two untouched.
JOIN_BPS = (5_000, 3_000, 1_000, 1_000)


class Scenario:
    def __init__(self, stack, lending, chain, project, lens):
        self.stack, self.lending, self.vault, self.sleeve = stack, lending, stack.vault, lending.sleeve
        self.usdc, self.chain, self.project, self.lens = stack.tokens[USDC], chain, project, lens

    def decide(self) -> keeper_path.Decision:
        """The keeper path's read and decide, on the state now (what every caller does)."""
        state, market = keeper_path.read(
            self.vault, [self.stack.venue], self.stack.tokens, token_at, self.chain.pending_timestamp, self.lens
        )
        return keeper_path.decide(self.vault, state, market)


def scenario(make_stack, project, owner, keeper, alice, chain, lens, donation_bps=5_000) -> Scenario:
    """The default 4-asset stack joined off target (JOIN_BPS), every USDC lent (no idle buffer) into
    its market with a 0 % rate-rise bound, then ``donation_bps`` of the market donated to it."""
    stack = make_stack()
    amounts = [int(1_000_000 * bps / MAX_BPS / a.price * 10**a.decimals) for bps, a in zip(JOIN_BPS, stack.spec.assets)]
    stack.fund(alice, amounts)
    stack.vault.join(0, amounts, alice, sender=alice)
    lending = add_lending(stack, project, owner)
    usdc, market = stack.tokens[USDC], lending.markets[USDC]
    lending.sleeve.set_market(usdc, market, 0, sender=owner)
    lending.sleeve.set_guards(0, MAX_LOSS_BPS, sender=owner)  # a donation is never counted
    lending.lend(USDC, MAX_BPS, keeper)
    assert stack.vault.balances(usdc) == 0
    if donation_bps:
        amount = market.totalAssets() * donation_bps // MAX_BPS
        usdc.mint(owner, amount, sender=owner)
        usdc.transfer(market, amount, sender=owner)
    chain.pending_timestamp += lens.cooldown(stack.vault) + 1
    return Scenario(stack, lending, chain, project, lens)


@pytest.fixture
def donated(make_stack, project, owner, keeper, alice, chain, lens):
    return scenario(make_stack, project, owner, keeper, alice, chain, lens)


def _sells_past_idle(s: Scenario, decision) -> int:
    sold = sum(t.amount_in for t in decision.plan.trades if t.token_in == s.usdc.address)
    return sold - s.vault.balances(s.usdc)


def test_recall_first__plan_as_decided__refused_drift_grew_and_decided_again_unchanged(donated, keeper):
    """(1) The refusal, and why it repeats: the state does not change, so neither does the plan."""
    s = donated
    assert s.sleeve.lent_assets(True)[USDC] > s.sleeve.lent_assets(False)[USDC]  # reported above counted
    decision = s.decide()
    assert decision.actionable and _sells_past_idle(s, decision) > 0
    assert {t.token_in for t in decision.plan.trades} == {s.usdc.address}
    touched = {t.token_out for t in decision.plan.trades}
    assert s.stack.tokens[WETH].address in touched
    assert not touched & {s.stack.tokens[WBTC].address, s.stack.tokens[LINK].address}
    with ape.reverts("vault: drift grew"):
        keeper_path.send(s.vault, decision, keeper)
    again = s.decide()
    assert [t.as_tuple() for t in again.plan.trades] == [t.as_tuple() for t in decision.plan.trades]


def test_recall_first__allocator__recalls_then_replans_and_the_rebalance_is_accepted(donated, keeper):
    """(2) Through the step: one recall of USDC, its ``Recalled`` event, a plan made on the new
    state, and the rebalance accepted without a recall of its own. (On a copy without the step, the
    send reverts with "vault: drift grew".)"""
    s = donated
    decision = s.decide()
    shortfall = _sells_past_idle(s, decision)
    shares, value = s.sleeve.market_shares(s.usdc), s.lens.total_value(s.vault)
    prepared = keeper_path.recall_first(s.vault, decision, keeper, s.decide)
    shares_after, idle_after, value_after = (
        s.sleeve.market_shares(s.usdc),
        s.vault.balances(s.usdc),
        s.lens.total_value(s.vault),
    )
    drift = s.lens.max_drift(s.vault)
    receipt = keeper_path.send(s.vault, prepared, keeper)  # accepted
    assert not receipt.events.filter(s.sleeve.Recalled)  # idle covered every sale
    realised = keeper_path.decode(s.vault, receipt, prepared)
    assert realised.fills and s.lens.max_drift(s.vault) < drift
    assert [r.asset for r in prepared.recalls] == [s.usdc.address]
    recall = prepared.recalls[0]
    assert recall.shortfall == shortfall and shortfall <= recall.amount <= recall.lent
    events = recall.receipt.events.filter(s.sleeve.Recalled)
    assert len(events) == 1
    event = events[0]
    assert (event.asset, event.market, event.assets) == (s.usdc.address, s.lending.markets[USDC].address, recall.amount)
    assert shares_after == shares - event.shares and idle_after == recall.amount
    assert value_after > value  # the recall realised part of the excess: counted before the plan
    assert prepared is not decision and prepared.actionable and "recalled first" in prepared.reason
    sold = sum(t.amount_in for t in prepared.plan.trades if t.token_in == s.usdc.address)
    assert sold <= idle_after  # the new plan fits in idle


def test_recall_first__without_the_allocator_role__recalls_nothing_and_says_so(donated, owner, keeper):
    """(3) A keeper without the allocator role: no recall, the plan left as is, and the reason says
    why; (the same for a preview, which never sends)."""
    s = donated
    s.vault.set_role(keeper, ROLE_KEEPER, sender=owner)  # the keeper role only
    decision = s.decide()
    trades = [t.as_tuple() for t in decision.plan.trades]
    shares, nonce = s.sleeve.market_shares(s.usdc), keeper.nonce
    prepared = keeper_path.recall_first(s.vault, decision, keeper, s.decide)
    assert prepared is decision and prepared.recalls == []
    assert [t.as_tuple() for t in prepared.plan.trades] == trades
    assert "not recalled first" in prepared.reason and "lacks the allocator role" in prepared.reason
    assert "vault: drift grew" in prepared.reason
    assert keeper.nonce == nonce and s.sleeve.market_shares(s.usdc) == shares
    preview = keeper_path.recall_first(s.vault, s.decide(), None, s.decide)
    assert preview.recalls == [] and "recall first:" in preview.reason and "not sent in a preview" in preview.reason
    assert keeper.nonce == nonce and s.sleeve.market_shares(s.usdc) == shares
    with ape.reverts("vault: drift grew"):
        keeper_path.send(s.vault, prepared, keeper)


def test_recall_first__no_excess__sends_no_recall(make_stack, project, owner, keeper, alice, chain, lens):
    """(4) Reported == counted (no donation): the same plan sells past idle, but the rebalance's own
    recall realises nothing, so the step sends nothing and the plan goes as decided (accepted)."""
    s = scenario(make_stack, project, owner, keeper, alice, chain, lens, donation_bps=0)
    assert s.sleeve.lent_assets(True)[USDC] == s.sleeve.lent_assets(False)[USDC]
    decision = s.decide()
    assert _sells_past_idle(s, decision) > 0
    nonce = keeper.nonce
    assert keeper_path.shortfalls(s.vault, decision) == []
    prepared = keeper_path.recall_first(s.vault, decision, keeper, s.decide)
    assert prepared is decision and prepared.recalls == [] and "recall" not in prepared.reason
    assert keeper.nonce == nonce
    receipt = keeper_path.send(s.vault, prepared, keeper)
    assert receipt.events.filter(s.sleeve.Recalled)  # the rebalance recalled its shortfall itself


def test_recall_first__bot__recalls_then_rebalances_in_one_block(donated, keeper):
    """The Silverback bot's loop goes through the same step: one block, a recall, then the
    rebalance on the new state, both sent."""
    s = donated
    outcome = _loop(s, keeper).on_block(s.chain.blocks.head)
    assert outcome.action == SENT, outcome.reason
    assert "recalled first" in outcome.reason and "Rebalanced" in outcome.reason
    assert [r.asset for r in outcome.decision.recalls] == [s.usdc.address]
    assert outcome.cost is not None and outcome.cost < WAD * 1_000


def test_recall_first__ape_run_keeper__preview_says_so_then_send_recalls_and_rebalances(donated, keeper):
    """``ape run keeper``: the dry run names the recall it would send first and sends nothing (no gas
    estimate of the plan as is, which the vault would refuse); ``--send`` recalls, plans again and
    rebalances."""
    from click.testing import CliRunner
    from test_route import _keeper_cli

    s = donated
    args = ["--account", "TEST::1", "--vault", str(s.vault.address), "--venue", str(s.stack.venue.address)]
    args += ["--lens", str(s.lens.address), "--network", "ethereum:local:test"]
    shares, nonce = s.sleeve.market_shares(s.usdc), keeper.nonce
    preview = CliRunner().invoke(_keeper_cli(), args, catch_exceptions=False)
    assert preview.exit_code == 0, preview.output
    assert "to recall first: 149,999.999999 T0" in preview.output and "not sent in a preview" in preview.output
    assert "gas ~" not in preview.output and "dry run: pass --send" in preview.output
    assert s.sleeve.market_shares(s.usdc) == shares and keeper.nonce == nonce
    sent = CliRunner().invoke(_keeper_cli(), args + ["--send"], catch_exceptions=False)
    assert sent.exit_code == 0, sent.output
    assert "recalled first: 149,999.999999 T0" in sent.output and "realised: cost" in sent.output
    assert s.sleeve.market_shares(s.usdc) < shares and s.vault.balances(s.usdc) < 149_999_999_999


def test_recall_first__still_short_after_its_rounds__sends_them_and_says_so(donated, keeper, monkeypatch):
    """A market that keeps reporting a shortfall after every round: the step stops after ``rounds``
    recalls of it and names the asset still short (here ``shortfalls`` always finds one base unit)."""
    s = donated
    decision = s.decide()
    unit = keeper_path.Recall(s.usdc.address, "T0", 1, 1, 10**6, 2 * 10**6)
    monkeypatch.setattr(keeper_path, "shortfalls", lambda vault, d: [dataclasses.replace(unit)])
    idle = s.vault.balances(s.usdc)
    prepared = keeper_path.recall_first(s.vault, decision, keeper, s.decide, rounds=2)
    assert len(prepared.recalls) == 2 and all(r.receipt is not None for r in prepared.recalls)
    assert s.vault.balances(s.usdc) == idle + 2
    assert prepared.reason.endswith("; still short after 2 rounds: T0")
    assert [r.asset for r in prepared.unrecalled] == [s.usdc.address]


def _loop(s, keeper):
    return KeeperLoop(
        s.vault,
        keeper,
        [s.stack.venue],
        token_at=token_at,
        lens=s.lens,
        clock=lambda: s.chain.pending_timestamp,
        logger=logging.getLogger("test.keeper.recall_first"),
    )


def test_recall_first__bot__a_recall_that_fails__fails_the_step_and_carries_on(donated, keeper, monkeypatch):
    """The bot's recall-first step failing (a reverted or unsent recall) ends the block's step as
    failed, with the reason, and sends no rebalance."""
    s = donated

    def refused(*args, **kwargs):
        raise RuntimeError("market: no liquidity")

    monkeypatch.setattr(keeper_path, "recall_first", refused)
    nonce = keeper.nonce
    outcome = _loop(s, keeper).on_block(s.chain.blocks.head)
    assert outcome.action == FAILED
    assert outcome.reason == "recall first reverted or not sent: RuntimeError: market: no liquidity; carrying on"
    assert keeper.nonce == nonce


def test_recall_first__bot__cannot_read_what_to_recall__errors_and_sends_nothing(donated, keeper, monkeypatch):
    """The bot cannot read the sleeve's rates (``shortfalls`` raises): an error outcome, nothing sent."""
    s = donated

    def unreadable(*args, **kwargs):
        raise RuntimeError("sleeve unreachable")

    monkeypatch.setattr(keeper_path, "shortfalls", unreadable)
    nonce = keeper.nonce
    outcome = _loop(s, keeper).on_block(s.chain.blocks.head)
    assert outcome.action == ERROR
    assert outcome.reason == "cannot check what to recall first: RuntimeError: sleeve unreachable"
    assert keeper.nonce == nonce
