"""Revert reasons as sentences: every reason in the sources is mapped, and real reverts decode."""

from __future__ import annotations

import re

import pytest
from ape.exceptions import ContractLogicError

from ballast.constants import ROOT, WAD
from ballast.depositor.reverts import REASONS, explain, reason_of

SOURCES = [
    ROOT / "contracts" / "Vault.vy",
    ROOT / "contracts" / "VaultFactory.vy",
    ROOT / "contracts" / "Rules.vy",
    ROOT / "contracts" / "LendingSleeve.vy",
    ROOT / "contracts" / "periphery" / "VaultLens.vy",
]
SOURCES += sorted((ROOT / "contracts" / "modules").glob("*.vy"))
REASON = re.compile(r'"((?:vault|basket|pricing|lens|factory|sleeve): [^"]+)"')


def test_reasons__every_revert_string_of_the_vault_and_its_modules__has_a_sentence():
    found = {m for path in SOURCES for m in REASON.findall(path.read_text())}
    assert len(found) > 50
    assert sorted(found - set(REASONS)) == []
    assert all(sentence.endswith(".") for sentence in REASONS.values())


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        ("vault: paused", "The vault is paused"),
        ("pricing: stale", "A price feed is stale"),
        ("vault: amount above maximum", "The join would take more of an asset than your maximum"),
        ("erc20: insufficient allowance", "A token's allowance to the vault is too low"),
        ("execution reverted: vault: shut down", "The vault is shut down for good"),
    ],
)
def test_explain__known_reason__sentence_then_raw(raw, start):
    sentence = explain(raw)
    assert sentence.startswith(start) and sentence.endswith(f"({reason_of(raw)!r})")


def test_explain__unknown_reason__says_so():
    assert explain("boom") == "The vault reverted: boom."


def test_explain__a_real_revert__amount_above_maximum(seeded, bob):
    need = list(seeded.lens.preview_join(seeded.vault, 10 * WAD))
    seeded.fund(bob, need)
    with pytest.raises(ContractLogicError) as err:
        seeded.vault.join(10 * WAD, [need[0] - 1, *need[1:]], bob, sender=bob)
    assert explain(err.value).startswith("The join would take more of an asset than your maximum")


def test_explain__a_real_revert__stale_price_from_the_lens(seeded, chain):
    seeded.feeds[0].set_round(
        seeded.feeds[0].latest_answer(), chain.pending_timestamp - 10 * 86_400, sender=seeded.owner
    )
    with pytest.raises(ContractLogicError) as err:
        seeded.lens.total_value(seeded.vault)
    assert "('pricing: stale')" in explain(err.value)
