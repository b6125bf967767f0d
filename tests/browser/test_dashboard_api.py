"""The dashboard server's pieces that need no browser: a wallet's or node's error as the library's
sentence, and integers as strings for the page."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

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


def _post(url: str, headers: dict, body: bytes = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_sign"}'):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_dashboard_server__post_from_elsewhere__refused_before_the_node(tmp_path):
    # No chain is read on these paths: the guard and the relay's method list answer first.
    from ballast.dashboard.server import Dashboard

    server = Dashboard(SimpleNamespace(chain_id=31337), None, port=0, node_url="http://127.0.0.1:9")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url, port = f"{server.url}/rpc", server.server_address[1]
        page = {"Content-Type": "application/json"}
        assert _post(url, {"Content-Type": "text/plain"})[0] == 403  # a no-cors fetch or a form
        assert _post(url, {**page, "Origin": "http://evil.example"})[0] == 403
        assert _post(url, {**page, "Host": f"rebound.example:{port}"})[0] == 403
        assert _post(url, {**page, "Origin": server.url}) == (403, {"error": "method 'eth_sign' is not relayed"})
    finally:
        server.shutdown()
        server.server_close()
