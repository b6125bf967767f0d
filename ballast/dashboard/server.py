"""The dashboard's HTTP server: the static page, its JSON endpoints and, on local chains, a
JSON-RPC relay to the node for its unlocked development accounts.

Standard library only (``http.server``): the page is three static files and a handful of JSON
endpoints over the depositor library, so a framework would add dependencies and nothing else.
Bound to 127.0.0.1. ape's provider is not made for concurrent calls, so every request that reads
the chain through ape takes one lock; the relay (a plain HTTP forward) does not.

Endpoints (GET unless said): ``/api/overview`` (status, exit bundle, lending), ``/api/history``,
``/api/account?address=``, POST ``/api/prepare`` (a preview and its unsigned transactions),
POST ``/api/decode`` (a mined entry or exit), POST ``/api/explain`` (a wallet's error as a
sentence), POST ``/rpc`` (the relay, local chains only, a short list of methods).
"""

from __future__ import annotations

import json
import threading
import traceback
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ballast.checks import InputError
from ballast.dashboard import api
from ballast.depositor import reverts
from ballast.depositor.entries import VaultReverted

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
# Chain ids whose nodes hold unlocked development accounts (anvil/hardhat, ape's test chain).
LOCAL_CHAIN_IDS = (31337, 1337)
# What the page may ask the node through the relay: its accounts, sending from them, receipts.
RELAYED_METHODS = ("eth_accounts", "eth_chainId", "eth_sendTransaction", "eth_getTransactionReceipt", "eth_blockNumber")


class Dashboard(ThreadingHTTPServer):
    """The server, holding the checked target, ape's provider, the node's URL and the lock."""

    daemon_threads = True

    def __init__(self, target, provider, port: int = 8000, host: str = "127.0.0.1", node_url: str | None = None):
        super().__init__((host, port), Handler)
        self.target, self.provider = target, provider
        self.node_url = node_url or getattr(provider, "uri", None)
        self.relay = bool(self.node_url) and target.chain_id in LOCAL_CHAIN_IDS
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: Dashboard

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # quiet: a page polls, and the terminal is for the command's own lines

    # ------------------------------------------------------------ plumbing

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data, status: int = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        if not isinstance(data, dict):
            raise InputError("request: must be a JSON object")
        return data

    def _api(self, build) -> None:
        """Run ``build`` under the lock; a refusal or a revert becomes ``{"error": sentence}`` (400)."""
        try:
            with self.server.lock:
                data = build()
        except (InputError, VaultReverted) as err:
            return self._json({"error": str(err)}, HTTPStatus.BAD_REQUEST)
        except json.JSONDecodeError as err:
            return self._json({"error": f"request: not JSON ({err})"}, HTTPStatus.BAD_REQUEST)
        except Exception as err:  # noqa: BLE001 - the page shows it; the terminal gets the trace
            from ape.exceptions import ContractLogicError

            if isinstance(err, ContractLogicError):  # a view reverted (a stale feed, say): its sentence
                return self._json({"error": reverts.explain(err)}, HTTPStatus.BAD_REQUEST)
            traceback.print_exc()
            return self._json({"error": f"{type(err).__name__}: {err}"}, HTTPStatus.INTERNAL_SERVER_ERROR)
        self._json(data)

    # ------------------------------------------------------------ routes

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        target, provider = self.server.target, self.server.provider
        if url.path == "/api/overview":
            return self._api(lambda: {**api.overview(target, provider), "relay": self.server.relay})
        if url.path == "/api/history":
            return self._api(lambda: api.read_history(target, provider))
        if url.path == "/api/account":
            address = parse_qs(url.query).get("address", [""])[0]
            return self._api(lambda: api.account(target, address))
        name = "index.html" if url.path in ("/", "/index.html") else url.path.lstrip("/")
        path = (STATIC / name).resolve()
        if path.parent != STATIC or not path.is_file() or path.suffix not in CONTENT_TYPES:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        self._send(HTTPStatus.OK, path.read_bytes(), CONTENT_TYPES[path.suffix])

    def _same_origin(self) -> bool:
        """Only the page itself may POST: JSON bodies (a cross-site form or a no-cors fetch cannot
        send one without a preflight, which this server never grants), from this server's origin
        when the browser says where from, to a loopback host name (no DNS rebinding)."""
        port = self.server.server_address[1]
        hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        origin = self.headers.get("Origin")
        return (
            (self.headers.get("Content-Type") or "").split(";")[0].strip() == "application/json"
            and self.headers.get("Host") in hosts
            and (origin is None or origin in {f"http://{h}" for h in hosts})
        )

    def do_POST(self):  # noqa: N802
        url = urlparse(self.path)
        target, provider = self.server.target, self.server.provider
        if not self._same_origin():
            return self._json({"error": "only the dashboard's own page may post here"}, HTTPStatus.FORBIDDEN)
        if url.path == "/rpc":
            return self._relay()
        routes = {
            "/api/prepare": lambda body: api.prepare(target, body),
            "/api/decode": lambda body: api.decode(target, provider, body),
            "/api/explain": lambda body: api.explain(body),
        }
        if url.path not in routes:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        self._api(lambda: routes[url.path](self._body()))

    def _relay(self) -> None:
        """Forward one JSON-RPC call of :data:`RELAYED_METHODS` to the node (local chains only)."""
        if not self.server.relay:
            return self._json({"error": "the relay to the node's accounts is for local chains only"}, 403)
        body = self._body()
        if body.get("method") not in RELAYED_METHODS:
            return self._json({"error": f"method {body.get('method')!r} is not relayed"}, 403)
        request = urllib.request.Request(
            self.server.node_url, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            self._send(HTTPStatus.OK, response.read(), "application/json")


def serve(target, provider, port: int = 8000, host: str = "127.0.0.1") -> Dashboard:
    """A :class:`Dashboard` serving in a background thread; ``shutdown()`` stops it."""
    server = Dashboard(target, provider, port, host)
    threading.Thread(target=server.serve_forever, name="ballast-dashboard", daemon=True).start()
    return server
