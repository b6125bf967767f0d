"""The dashboard server's pieces that need no browser: a wallet's or node's error as the library's
sentence, and integers as strings for the page."""

from __future__ import annotations

from eth_abi import encode

from ballast.dashboard import api
from ballast.depositor import reverts


def test_dashboard_explain__error_string_in_rpc_data__library_sentence():
    data = "0x08c379a0" + encode(["string"], ["vault: paused"]).hex()
    assert api.explain({"message": "execution reverted", "data": data}) == {"error": reverts.explain("vault: paused")}
    # Some wallets nest the node's error data one level down.
    assert api.explain({"message": "Internal JSON-RPC error.", "data": {"data": data}})["error"].startswith(
        "The vault is paused: "
    )


def test_dashboard_explain__reason_only_in_message__library_sentence():
    message = "execution reverted: pricing: stale"
    assert api.explain({"message": message, "data": None}) == {"error": reverts.explain("pricing: stale")}
    assert api.explain({"message": "User rejected the request."})["error"] == (
        "The vault reverted: User rejected the request.."
    )


def test_dashboard_strings__nested_integers__decimal_strings_booleans_kept():
    assert api.strings({"a": [2**200, True, None, 1.5, "x"], "b": {"c": -3}}) == {
        "a": [str(2**200), True, None, 1.5, "x"],
        "b": {"c": "-3"},
    }
