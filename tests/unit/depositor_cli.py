"""Helpers of the depositor CLI tests: the command run through click on the test's chain."""

from __future__ import annotations

import contextlib
import json

import pytest
from click.testing import CliRunner

from ballast.chain.deploy import record_deployment, vault_factory
from ballast.depositor.cli import cli

ALICE, BOB = "TEST::3", "TEST::4"


@pytest.fixture(autouse=True)
def same_provider(monkeypatch, chain):
    """The commands run on the test's provider: ape's network context would enter (and leave) it
    again, which loses the test's isolation snapshot."""
    monkeypatch.setattr("ape.cli.commands.parse_network", lambda ctx: contextlib.nullcontext(chain.provider))


def write_book(stack, owner, folder, chain_id, **changes):
    """A deployment record of ``stack`` in ``folder``, as ``ape run deploy`` writes it."""
    path = folder / "local.json"
    record_deployment(
        path,
        "local",
        stack.vault,
        stack.tokens,
        stack.feeds,
        [stack.venue],
        stack.lens,
        vault_factory(stack.project, owner),
        chain_id,
    )
    if changes:
        book = json.loads(path.read_text())
        book["local"].update(changes)
        path.write_text(json.dumps(book))
    return folder


@pytest.fixture
def book(seeded, owner, tmp_path, chain):
    return write_book(seeded, owner, tmp_path, chain.chain_id)


def run(book, *args, input=None):
    """``ape run vault ARGS`` against ``book``; returns click's result."""
    return CliRunner().invoke(cli, [*args, "--network", "ethereum:local:test", "--deployments", str(book)], input=input)
