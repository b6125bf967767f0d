"""Chainlink's own feed contracts on a local chain, deployed from ``@chainlink/contracts@0.1.9``.

A feed is what a vault reads on mainnet: an ``EACAggregatorProxy`` in front of an aggregator.
Locally the aggregator is Chainlink's ``MockV3Aggregator`` (answers set by ``updateAnswer``);
the proxy adds what the real feeds have, a phase id in the top bits of every round id and an
aggregator that the feed's owner can switch (``proposeAggregator`` then ``confirmAggregator``).
The bytecode is the package's (``compilerOutput.evm.bytecode.object``, solc 0.6.6), not ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from ballast.chain import artifacts

PACKAGE = "@chainlink/contracts"
# EACAggregatorProxy's round ids carry the phase in bits 64-79 (Chainlink's PHASE_OFFSET).
PHASE_OFFSET = 64


def container(name: str):
    """An ape contract container for Chainlink contract ``name`` (solc 0.6.6 build of the package)."""
    return artifacts.container(PACKAGE, f"abi/v0.6/{name}.json")


@dataclass
class Feed:
    """A proxied Chainlink feed: the vault reads ``proxy``; prices are set on ``aggregator``."""

    proxy: object
    aggregator: object

    @property
    def address(self) -> str:
        return str(self.proxy.address)

    def __str__(self) -> str:
        return self.address

    def set_answer(self, answer: int, sender) -> None:
        """Publish a new round with ``answer`` (feed decimals) at the current block time."""
        self.aggregator.updateAnswer(answer, sender=sender)

    def latest_answer(self) -> int:
        return int(self.proxy.latestAnswer())

    def latestRoundData(self):  # noqa: N802 (the feed's own ABI name)
        return self.proxy.latestRoundData()


def deploy_aggregator(sender, decimals: int, answer: int):
    """A ``MockV3Aggregator`` with ``decimals`` and a first round at ``answer``."""
    return container("MockV3Aggregator").deploy(decimals, answer, sender=sender)


def deploy_feed(sender, decimals: int, answer: int) -> Feed:
    """An ``EACAggregatorProxy`` (no access controller) over a fresh ``MockV3Aggregator``."""
    aggregator = deploy_aggregator(sender, decimals, answer)
    proxy = container("EACAggregatorProxy").deploy(aggregator.address, "0x" + "00" * 20, sender=sender)
    return Feed(proxy, aggregator)


def switch_aggregator(feed: Feed, aggregator, sender) -> int:
    """Point ``feed``'s proxy at ``aggregator`` the way a feed owner does; returns the new phase id."""
    feed.proxy.proposeAggregator(aggregator.address, sender=sender)
    feed.proxy.confirmAggregator(aggregator.address, sender=sender)
    feed.aggregator = aggregator
    return int(feed.proxy.phaseId())
