"""Helpers of the depositor CLI tests: the command run through click on the test's chain."""

from __future__ import annotations

import contextlib
from unittest import mock

from click.testing import CliRunner

from ballast.chain.deploy import record_deployment, vault_factory
from ballast.depositor.cli import cli

ALICE, BOB = "TEST::3", "TEST::4"


def write_book(stack, owner, folder, chain_id):
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
    return folder


def run(book, *args, input=None):
    """``ape run vault ARGS`` against the records in ``book``; returns click's result.

    The command runs on the test's provider: ape's network context would enter (and leave) it
    again, which loses the test's isolation snapshot.
    """
    from ape import chain

    with mock.patch("ape.cli.commands.parse_network", lambda ctx: contextlib.nullcontext(chain.provider)):
        return CliRunner().invoke(
            cli, [*args, "--network", "ethereum:local:test", "--deployments", str(book)], input=input
        )
