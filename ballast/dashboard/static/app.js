// Ballast dashboard: reads /api/* (built on ballast.depositor), draws the charts as inline SVG,
// and sends joins, deposits and exits through an EIP-1193 provider: the browser's wallet
// (window.ethereum) or, on local chains, the node's unlocked accounts through the server's relay.
// Every integer arrives as a decimal string and is handled as a BigInt.
"use strict";

const WAD = 10n ** 18n;
const SVG = "http://www.w3.org/2000/svg";
const state = { overview: null, history: null, wallet: null, pending: null };

// ------------------------------------------------------------------ formatting

/** `raw` (base units, a decimal string or BigInt) in units of 10**decimals, rounded half up to
 *  `places`, with thousands separators. */
function units(raw, decimals, places) {
  let v = BigInt(raw);
  const negative = v < 0n;
  if (negative) v = -v;
  const shift = BigInt(decimals) - BigInt(places);
  if (shift > 0n) {
    const d = 10n ** shift;
    v = (v + d / 2n) / d;
  } else if (shift < 0n) {
    v = v * 10n ** -shift;
  }
  let text = v.toString().padStart(places + 1, "0");
  let whole = places ? text.slice(0, -places) : text;
  const frac = places ? text.slice(-places) : "";
  whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative && v !== 0n ? "-" : "") + whole + (places ? "." + frac : "");
}
const places = (decimals) => Math.min(decimals, 8);
const usd = (wad) => "$" + units(wad, 18, 2);
const usd6 = (wad) => "$" + units(wad, 18, 6); // per-share figures
const pct = (wad) => units(wad, 16, 2) + " %";
const signedPct = (wad) => (BigInt(wad) > 0n ? "+" : "") + pct(wad);
const bps = (n) => (Number(n) / 100).toFixed(2) + " %";
const shares = (wad) => units(wad, 18, 6) + " shares";
const token = (raw, decimals, symbol) => units(raw, decimals, places(decimals)) + " " + symbol;
const time = (ts) => new Date(Number(ts) * 1000).toISOString().replace("T", " ").slice(0, 19);
const short = (addr) => addr.slice(0, 6) + "…" + addr.slice(-4);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
/** A cell showing `text` and keeping the exact integer it came from in data-raw. */
const cell = (text, raw, field, tag = "td") => el(tag, { "data-raw": raw, "data-field": field }, text);
function setFigure(id, text, raw) {
  const node = document.getElementById(id);
  node.textContent = text;
  if (raw !== undefined) node.dataset.raw = raw;
}

// ------------------------------------------------------------------ server

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (data.error) throw Object.assign(new Error(data.error), { explained: true });
  return data;
}

/** The node's unlocked accounts, as an EIP-1193 provider over the server's relay. */
const nodeProvider = {
  id: 0,
  async request({ method, params }) {
    const response = await fetch("/rpc", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params: params || [] }),
    });
    const data = await response.json();
    if (data.error) {
      const err = new Error(data.error.message || String(data.error));
      err.code = data.error.code;
      err.data = data.error.data;
      throw err;
    }
    return data.result;
  },
};

// ------------------------------------------------------------------ read-only panels

async function load() {
  const error = document.getElementById("load-error");
  try {
    const [overview, history] = await Promise.all([api("/api/overview"), api("/api/history")]);
    state.overview = overview;
    state.history = history;
    error.textContent = "";
    renderStatus(overview);
    renderExit(overview);
    renderLending(overview);
    renderNav(history);
    renderLedger(history);
    renderFlows(history);
    await loadAccount();
    document.body.dataset.block = overview.result.block;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (err) {
    error.textContent = "Could not read the vault: " + err.message;
  }
}

function renderStatus(data) {
  const s = data.result;
  document.title = `${s.name}: Ballast vault dashboard`;
  setFigure("vault-name", s.name);
  setFigure("vault-symbol", s.symbol);
  setFigure("vault-line", `Vault ${s.vault} on ${s.network} (chain ${s.chain_id}), block ${s.block} at ${time(s.timestamp)} UTC`);
  const label = s.shutdown ? "shut down" : s.paused ? "paused" : "open";
  const badge = document.getElementById("vault-state");
  badge.textContent = label;
  badge.className = "badge " + label.replace(" ", "-");
  setFigure("total-value", usd(s.total_value), s.total_value);
  setFigure("total-supply", shares(s.total_supply), s.total_supply);
  setFigure("nav-per-share", usd6(s.nav_per_share) + " per share", s.nav_per_share);
  setFigure("trigger-type", `(${s.trigger}${s.due ? ", due" : ""})`);
  setFigure("trigger-why", s.why);

  const body = document.querySelector("#basket-table tbody");
  body.replaceChildren(...s.assets.map((a) => {
    const outside = BigInt(a.drift) < 0n ? -BigInt(a.drift) > BigInt(a.effective_band_bps) * 10n ** 14n
      : BigInt(a.drift) > BigInt(a.effective_band_bps) * 10n ** 14n;
    return el("tr", { "data-asset": a.symbol, class: outside ? "outside" : "" },
      el("th", { scope: "row" }, a.symbol),
      cell(token(a.balance, a.decimals, a.symbol), a.balance, "balance"),
      cell(usd(a.price) + " per " + a.symbol, a.price, "price"),
      cell(usd(a.value), a.value, "value"),
      cell(pct(a.weight), a.weight, "weight"),
      cell(pct(a.target), a.target, "target"),
      cell(signedPct(a.drift), a.drift, "drift"),
      cell(bps(a.effective_band_bps), a.effective_band_bps, "band"),
      cell(bps(a.outer_band_bps), a.outer_band_bps, "outer_band"));
  }));
  drawWeights(s.assets);

  const select = document.getElementById("deposit-asset");
  if (!select.options.length) {
    for (const a of data.assets) select.append(el("option", { value: a.symbol }, a.symbol));
    document.getElementById("deposit-unit").textContent = select.value;
  }
}

/** Per asset: the outer band and the band around the target, the target, and the weight as a bar. */
function drawWeights(assets) {
  const rowH = 40, left = 60, width = 900, right = 250, top = 8, axisH = 22;
  const toPct = (wad) => Number(BigInt(wad) / 10n ** 12n) / 1e4; // WAD -> percent, 4 decimals
  let max = 0;
  for (const a of assets) {
    max = Math.max(max, toPct(a.weight), toPct(a.target) + Number(a.outer_band_bps) / 100);
  }
  max = Math.ceil(max / 10) * 10;
  const x = (p) => left + (Math.max(0, p) / max) * (width - left - right);
  const height = top + rowH * assets.length + axisH;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", width: "100%",
    "aria-labelledby": "weights-title" });
  chart.append(svg("title", { id: "weights-title" }, "Weights against targets: " + assets.map((a) =>
    `${a.symbol} ${pct(a.weight)} (target ${pct(a.target)}, band ${bps(a.effective_band_bps)})`).join("; ")));
  for (let p = 0; p <= max; p += 10) {
    chart.append(svg("line", { x1: x(p), x2: x(p), y1: top, y2: height - axisH, class: "grid" }));
    chart.append(svg("text", { x: x(p), y: height - 6, class: "axis", "text-anchor": "middle" }, `${p} %`));
  }
  assets.forEach((a, i) => {
    const y = top + i * rowH, t = toPct(a.target), w = toPct(a.weight);
    const band = Number(a.effective_band_bps) / 100, outer = Number(a.outer_band_bps) / 100;
    const g = svg("g", { "data-asset": a.symbol });
    g.append(svg("text", { x: 4, y: y + rowH / 2 + 4, class: "label" }, a.symbol));
    g.append(svg("rect", { x: x(t - outer), y: y + 6, width: x(t + outer) - x(t - outer), height: rowH - 12, class: "outer" }));
    g.append(svg("rect", { x: x(t - band), y: y + 6, width: x(t + band) - x(t - band), height: rowH - 12, class: "band" }));
    const outside = Math.abs(w - t) > band;
    g.append(svg("rect", { x: x(0), y: y + rowH / 2 - 5, width: x(w) - x(0), height: 10,
      class: outside ? "weight outside" : "weight" }));
    g.append(svg("line", { x1: x(t), x2: x(t), y1: y + 2, y2: y + rowH - 2, class: "target" }));
    g.append(svg("text", { x: width - right + 16, y: y + rowH / 2 + 4, class: outside ? "value outside" : "value" },
      `${pct(a.weight)} (target ${pct(a.target)}, ${signedPct(a.drift)})`));
    chart.append(g);
  });
  document.getElementById("weights-chart").replaceChildren(chart);
}

function renderExit(data) {
  const bundle = data.exit_bundle;
  const body = document.querySelector("#exit-table tbody");
  if (bundle.error) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 3 }, bundle.error)));
    return;
  }
  const lent = bundle.assets.some((a) => BigInt(a.market_shares) > 0n);
  body.replaceChildren(...bundle.assets.map((a) => el("tr", { "data-asset": a.symbol },
    el("th", { scope: "row" }, a.symbol),
    cell(token(a.amount, a.decimals, a.symbol) + (BigInt(a.from_lent) > 0n
      ? ` (${units(a.from_lent, a.decimals, places(a.decimals))} from lending)` : ""), a.amount, "amount"),
    cell(usd6(a.value), a.value, "value"))));
  setFigure("exit-total", usd6(bundle.total_value), bundle.total_value);
  setFigure("exit-nav", usd6(bundle.nav_per_share), bundle.nav_per_share);
  document.getElementById("exit-note").textContent = (lent
    ? "The lent part is redeemed from its market when the market can pay, else delivered as the market's shares. "
    : "") + "Amounts round down, so the bundle is worth at most the NAV per share.";
}

function renderLending(data) {
  const rows = data.lending;
  document.getElementById("lending-none").hidden = rows.length > 0;
  document.getElementById("lending-table").hidden = rows.length === 0;
  const holding = Object.fromEntries(data.result.assets.map((a) => [a.symbol, a]));
  document.querySelector("#lending-table tbody").replaceChildren(...rows.map((r) => {
    const held = BigInt(holding[r.symbol].balance);
    const share = held ? (BigInt(r.lent) * 10n ** 18n) / held : 0n;
    const days = (Number(r.elapsed) / 86400).toFixed(1);
    return el("tr", { "data-asset": r.symbol },
      el("th", { scope: "row" }, r.symbol),
      cell(token(r.lent, r.decimals, r.symbol), r.lent, "lent"),
      cell(pct(share), share.toString(), "share"),
      el("td", {}, el("code", { title: r.market }, short(r.market))),
      cell(r.yield_bps === null ? "not lent yet" : bps(r.yield_bps) + " a year", r.yield_bps, "yield_bps"),
      cell(`${days} days (${r.elapsed} s)`, r.elapsed, "elapsed"));
  }));
}

function renderNav(history) {
  const points = history.result.nav;
  document.querySelector("#nav-table tbody").replaceChildren(...points.map((p) => el("tr", {},
    el("td", {}, p.block), el("td", {}, time(p.timestamp)), el("td", {}, p.event),
    cell(usd6(p.nav_per_share), p.nav_per_share, "nav_per_share"), cell(shares(p.total_supply), p.total_supply, "supply"))));
  const width = 560, height = 220, left = 70, right = 16, top = 14, bottom = 34;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", width: "100%", "aria-labelledby": "nav-title" });
  chart.append(svg("title", { id: "nav-title" }, "NAV per share: " +
    points.map((p) => `${usd6(p.nav_per_share)} at block ${p.block}`).join("; ")));
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, "No rebalance yet"));
    document.getElementById("nav-chart").replaceChildren(chart);
    return;
  }
  const ys = points.map((p) => Number(BigInt(p.nav_per_share) / 10n ** 10n) / 1e8);
  const ts = points.map((p) => Number(p.timestamp));
  let lo = Math.min(...ys), hi = Math.max(...ys);
  const pad = Math.max((hi - lo) * 0.15, hi * 0.0005);
  lo -= pad; hi += pad;
  const t0 = Math.min(...ts), t1 = Math.max(...ts);
  const px = (t) => (t1 === t0 ? (left + width - right) / 2 : left + ((t - t0) / (t1 - t0)) * (width - left - right));
  const py = (v) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  for (const v of [lo, (lo + hi) / 2, hi]) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: py(v), y2: py(v), class: "grid" }));
    chart.append(svg("text", { x: left - 6, y: py(v) + 4, "text-anchor": "end", class: "axis" }, "$" + v.toFixed(4)));
  }
  chart.append(svg("text", { x: left, y: height - 8, class: "axis" }, time(t0)));
  if (t1 !== t0) chart.append(svg("text", { x: width - right, y: height - 8, "text-anchor": "end", class: "axis" }, time(t1)));
  chart.append(svg("polyline", { points: points.map((p, i) => `${px(ts[i])},${py(ys[i])}`).join(" "), class: "nav-line" }));
  points.forEach((p, i) => {
    const dot = svg("circle", { cx: px(ts[i]), cy: py(ys[i]), r: 4, class: p.event === "now" ? "nav-now" : "nav-dot" });
    dot.append(svg("title", {}, `${usd6(p.nav_per_share)} per share at block ${p.block} (${p.event})`));
    chart.append(dot);
    if (points.length <= 12) {
      const anchor = i === 0 ? "start" : i === points.length - 1 ? "end" : "middle";
      chart.append(svg("text", { x: px(ts[i]), y: py(ys[i]) - 9, "text-anchor": anchor, class: "value" },
        usd6(p.nav_per_share)));
    }
  });
  document.getElementById("nav-chart").replaceChildren(chart);
}

function renderLedger(history) {
  const h = history.result;
  const bySymbol = Object.fromEntries(history.assets.map((a) => [a.address.toLowerCase(), a]));
  const body = document.querySelector("#ledger-table tbody");
  const rows = [];
  let gas = 0n, cost = 0n;
  for (const r of h.rebalances) {
    gas += BigInt(r.gas_used);
    cost += BigInt(r.cost);
    rows.push(el("tr", { class: "rebalance", "data-tx": r.tx_hash, "data-block": r.block },
      el("th", { scope: "row" }, r.block), el("td", {}, time(r.timestamp)),
      el("td", {}, `${r.reason}: traded ${usd(r.value_traded)}, drift ${pct(r.total_drift_before)} → ${pct(r.total_drift_after)}`),
      el("td", {}, `${r.fills.length} fill${r.fills.length === 1 ? "" : "s"}`), el("td", {}),
      cell(`${r.cost_bps.toFixed(2)} bps of the vault`, r.cost_bps, "cost_bps"),
      cell(usd(r.cost), r.cost, "cost"), cell(BigInt(r.gas_used).toLocaleString("en-US") + " gas", r.gas_used, "gas")));
    for (const f of r.fills) {
      const a = bySymbol[f.token_in.toLowerCase()], b = bySymbol[f.token_out.toLowerCase()];
      // Fill price in WAD, in the direction that reads at least 1: bought per sold, or sold per bought.
      const outPerIn = (BigInt(f.amount_out) * 10n ** BigInt(a.decimals) * WAD) / (BigInt(f.amount_in) * 10n ** BigInt(b.decimals));
      const inPerOut = (BigInt(f.amount_in) * 10n ** BigInt(b.decimals) * WAD) / (BigInt(f.amount_out) * 10n ** BigInt(a.decimals));
      const price = outPerIn >= WAD ? `${units(outPerIn, 18, 6)} ${b.symbol} per ${a.symbol}` : `${units(inPerOut, 18, 6)} ${a.symbol} per ${b.symbol}`;
      rows.push(el("tr", { class: "fill", "data-tx": r.tx_hash },
        el("td", {}), el("td", {}, el("code", { title: f.venue }, "on " + short(f.venue))),
        el("td", {}, `${a.symbol} → ${b.symbol}`),
        el("td", {}, `${token(f.amount_in, a.decimals, a.symbol)} → ${token(f.amount_out, b.decimals, b.symbol)}`),
        el("td", {}, price),
        cell(`${f.cost_bps.toFixed(2)} bps`, f.cost_bps, "fill_cost_bps"),
        cell(usd(BigInt(f.value_in) - BigInt(f.value_out)), (BigInt(f.value_in) - BigInt(f.value_out)).toString(), "fill_cost"),
        el("td", {})));
    }
  }
  body.replaceChildren(...rows);
  if (!h.rebalances.length) body.append(el("tr", {}, el("td", { colspan: 8 }, "No rebalance yet.")));
  setFigure("ledger-summary", `${h.rebalances.length} rebalance${h.rebalances.length === 1 ? "" : "s"}, ` +
    `total cost ${usd(cost)}, total gas ${gas.toLocaleString("en-US")}`, String(h.rebalances.length));
}

function renderFlows(history) {
  const assets = history.assets;
  document.querySelector("#flows-table tbody").replaceChildren(...history.result.flows.map((f) => el("tr",
    { "data-kind": f.kind, "data-tx": f.tx_hash },
    el("td", {}, f.block), el("td", {}, f.kind), el("td", {}, el("code", { title: f.receiver }, short(f.receiver))),
    cell(shares(f.shares), f.shares, "shares"),
    el("td", {}, f.amounts.map((x, i) => [x, assets[i]]).filter(([x]) => BigInt(x) !== 0n)
      .map(([x, a]) => token(x, a.decimals, a.symbol)).join(", ")))));
}

// ------------------------------------------------------------------ accounts and providers

function selected() {
  const value = document.getElementById("account").value;
  if (!value) return null;
  const [source, address] = value.split(":");
  return { source, address, provider: source === "wallet" ? window.ethereum : nodeProvider };
}

async function listAccounts() {
  const select = document.getElementById("account");
  const note = document.getElementById("provider-note");
  const keep = select.value;
  select.replaceChildren();
  if (state.wallet) {
    for (const a of state.wallet) select.append(el("option", { value: "wallet:" + a }, `Wallet ${a}`));
  }
  if (state.overview.relay) {
    const accounts = await nodeProvider.request({ method: "eth_accounts" });
    accounts.forEach((a, i) => select.append(el("option", { value: "node:" + a }, `Node account ${i}: ${a}`)));
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  const notes = [];
  if (window.ethereum) notes.push(state.wallet ? "Browser wallet connected." : "A browser wallet is available: connect it to use its accounts.");
  if (state.overview.relay) notes.push("Node accounts are the local node's unlocked development accounts (sent through this server's relay).");
  if (!notes.length) notes.push("No browser wallet, and the node is not local: connect a wallet to send.");
  note.textContent = notes.join(" ");
  document.getElementById("connect-wallet").hidden = !window.ethereum || Boolean(state.wallet);
}

async function connectWallet() {
  const error = document.getElementById("act-error");
  try {
    const chain = BigInt(await window.ethereum.request({ method: "eth_chainId" }));
    if (chain !== BigInt(state.overview.chain_id)) {
      throw new Error(`The wallet is on chain ${chain}, the vault on chain ${state.overview.chain_id}: switch the wallet's network.`);
    }
    state.wallet = await window.ethereum.request({ method: "eth_requestAccounts" });
    await listAccounts();
    document.getElementById("account").value = "wallet:" + state.wallet[0];
    await loadAccount();
  } catch (err) {
    error.textContent = err.message;
  }
}

async function loadAccount() {
  const table = document.getElementById("account-table");
  const account = selected();
  if (!account) return;
  const data = await api("/api/account?address=" + account.address);
  const assets = state.overview.assets;
  table.querySelector("thead tr").replaceChildren(el("th", { scope: "col" }, "Shares"),
    ...assets.map((a) => el("th", { scope: "col" }, a.symbol)));
  table.querySelector("tbody").replaceChildren(el("tr", { "data-address": data.address },
    cell(shares(data.shares), data.shares, "shares"),
    ...data.assets.map((a, i) => cell(token(a.balance, assets[i].decimals, a.symbol), a.balance, a.symbol))));
  table.querySelector("caption").textContent = `Holdings of ${data.address}`;
}

// ------------------------------------------------------------------ join, deposit, exit

async function onPreview(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = document.getElementById("act-error");
  const result = document.getElementById("act-result");
  error.textContent = "";
  result.textContent = "";
  const account = selected();
  if (!account) {
    error.textContent = "Choose an account first.";
    return;
  }
  const request = { kind: form.dataset.kind, sender: account.address, slippage_bps: document.getElementById("slippage").value };
  for (const input of form.querySelectorAll("input, select")) request[input.name] = input.value;
  try {
    const prepared = await api("/api/prepare", request);
    state.pending = { ...prepared, kind: request.kind, account };
    document.getElementById("preview-text").textContent = prepared.text;
    document.getElementById("tx-list").replaceChildren(...prepared.transactions.map((t) =>
      el("li", {}, `${t.label}: to ${t.to}`)));
    const send = document.getElementById("send");
    send.textContent = `Send ${prepared.transactions.length} transaction${prepared.transactions.length === 1 ? "" : "s"}`;
    document.getElementById("preview").hidden = false;
    send.focus();
  } catch (err) {
    document.getElementById("preview").hidden = true;
    error.textContent = err.message;
  }
}

async function receiptOf(provider, hash) {
  for (let i = 0; i < 600; i++) {
    const receipt = await provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) return receipt;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`No receipt for ${hash} after 5 minutes.`);
}

async function onSend() {
  const pending = state.pending;
  const error = document.getElementById("act-error");
  const result = document.getElementById("act-result");
  const send = document.getElementById("send");
  if (!pending) return;
  send.disabled = true;
  error.textContent = "";
  const { provider, address } = pending.account;
  const approvals = [];
  try {
    let hash = null;
    for (const tx of pending.transactions) {
      result.textContent = `Sending ${tx.label}…`;
      hash = await provider.request({ method: "eth_sendTransaction", params: [{ from: address, to: tx.to, data: tx.data }] });
      const receipt = await receiptOf(provider, hash);
      if (tx !== pending.transactions.at(-1)) {
        if (receipt.status !== "0x1") throw Object.assign(new Error(`${tx.label} failed`), { hash });
        approvals.push(hash);
      }
    }
    const decoded = await api("/api/decode", { kind: pending.kind, tx_hash: hash, approvals });
    result.textContent = decoded.text;
    result.dataset.tx = decoded.sent.tx_hash;
    result.dataset.shares = decoded.sent.shares;
    result.dataset.amounts = decoded.sent.amounts.join(",");
  } catch (err) {
    result.textContent = "";
    if (err.explained) {
      error.textContent = err.message;
    } else try {
      const explained = await api("/api/explain", { message: err.message, data: err.data ?? null });
      error.textContent = explained.error;
    } catch (again) {
      error.textContent = again.message;
    }
  } finally {
    send.disabled = false;
    state.pending = null;
    document.getElementById("preview").hidden = true;
    await load();
  }
}

function init() {
  for (const form of document.querySelectorAll(".forms form")) form.addEventListener("submit", onPreview);
  document.getElementById("send").addEventListener("click", onSend);
  document.getElementById("cancel").addEventListener("click", () => {
    state.pending = null;
    document.getElementById("preview").hidden = true;
  });
  document.getElementById("refresh").addEventListener("click", load);
  document.getElementById("connect-wallet").addEventListener("click", connectWallet);
  document.getElementById("account").addEventListener("change", loadAccount);
  document.getElementById("deposit-asset").addEventListener("change", (e) => {
    document.getElementById("deposit-unit").textContent = e.target.value;
  });
  api("/api/overview").then(async (overview) => {
    state.overview = overview;
    await listAccounts();
    await load();
  }).catch((err) => {
    document.getElementById("load-error").textContent = "Could not read the vault: " + err.message;
  });
}

init();
