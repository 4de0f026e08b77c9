"""The status page served at ``/``: one self-contained HTML document (inline CSS and JS, no
build step, no external requests) that polls the node's JSON API every two seconds.

Sections: node, L1 and L2 heights (numbers and a height-over-time graph with one line per
layer), recent L1 blocks, peers, mempool (L1 and L2), models; the L2 summary
(``/v1/l2/status``: tip, state root, finalized/anchored/reclaimed counts, this node's roles,
account, balance, bond and producer duty), elections (``/v1/l2/elections``), the verifier set
(``/v1/l2/verifiers``) and inference transactions (``/v1/l2/inference``, each with its
lifecycle executed -> in_block -> finalized -> anchored -> confirmed -> reclaimed and the
quorum's votes). While the ``/v1/l2`` routes answer 404 (a node without the inference layer)
those sections say "not yet available on this node".

Every value goes through ``esc`` before it reaches ``innerHTML``. Tests read the DOM through
ids and ``data-*`` attributes: ``#l1-height``/``#l2-height[data-height]``, ``#l1-line``/
``#l2-line``, ``[data-available]`` on the L2 section containers, ``#l2-summary
tr[data-field]``, ``#elections-table tr[data-winner]``, ``#verifiers-table tr[data-key]``,
``#inference-table tr[data-txid][data-status]`` and its ``.steps[data-reached]``
(tests/api/test_api_metrics_page.py, tests/layer2/test_devnet_status_page.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = ["STATUS_PAGE", "status_page"]

STATUS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FUN AI node</title>
<style>
  :root { --fg:#1d2330; --mut:#6b7280; --bg:#f6f7f9; --card:#fff; --acc:#2563eb; --l2:#d97706;
          --bad:#b91c1c; --good:#15803d; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui,sans-serif; color:var(--fg); background:var(--bg); }
  header { padding:12px 20px; background:#111827; color:#fff; display:flex; gap:16px;
           align-items:baseline; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  header span { color:#9ca3af; }
  main { display:grid; grid-template-columns:repeat(auto-fit,minmax(360px,1fr)); gap:14px;
         padding:14px 20px; }
  section { background:var(--card); border-radius:8px; padding:12px 14px;
            box-shadow:0 1px 2px #0001; overflow:auto; }
  section.wide { grid-column:1 / -1; }
  h2 { font-size:15px; margin:0 0 8px; }
  table { border-collapse:collapse; width:100%; }
  td, th { text-align:left; padding:3px 6px; border-bottom:1px solid #eee; white-space:nowrap; }
  th { color:var(--mut); font-weight:500; }
  .mono { font-family:ui-monospace,monospace; font-size:12px; }
  .big { font-size:28px; font-weight:600; }
  .heights { display:flex; gap:28px; flex-wrap:wrap; align-items:baseline; }
  .heights .l1 { color:var(--acc); } .heights .l2 { color:var(--l2); }
  .legend { color:var(--mut); font-size:12px; margin:2px 0 6px; }
  .sw { display:inline-block; width:14px; height:3px; vertical-align:middle; margin:0 4px 0 8px; }
  .na { color:var(--mut); font-style:italic; }
  .err { color:var(--bad); }
  .yes { color:var(--good); font-weight:600; } .no { color:var(--bad); font-weight:600; }
  .badge { display:inline-block; padding:0 6px; margin-right:4px; border-radius:9px;
           background:#e0e7ff; color:#1e3a8a; font-size:12px; }
  .steps { display:inline-flex; gap:2px; }
  .step { padding:1px 5px; border-radius:3px; background:#eef0f3; color:#9ca3af;
          font-size:11px; }
  .step.on { background:#bfdbfe; color:#1e3a8a; }
  .step.cur { background:var(--acc); color:#fff; }
  .info { color:var(--mut); margin-bottom:6px; }
  svg { width:100%; height:80px; background:#fafafa; border-radius:4px; }
</style>
</head>
<body>
<header><h1>FUN AI node</h1><span id="network">…</span><span id="updated">connecting…</span>
</header>
<main>
  <section><h2>Ledgers: L1 (proof of work) and L2 (inference)</h2>
    <div class="heights">
      <div>L1 height <span class="big l1" id="l1-height">…</span></div>
      <div>L2 height <span class="big l2" id="l2-height">…</span></div></div>
    <svg id="l1-graph" viewBox="0 0 300 80" preserveAspectRatio="none">
      <polyline id="l1-line" fill="none" stroke="#2563eb" stroke-width="2" points=""/>
      <polyline id="l2-line" fill="none" stroke="#d97706" stroke-width="2" points=""/></svg>
    <div class="legend"><span class="sw" style="background:#2563eb"></span>L1
      <span class="sw" style="background:#d97706"></span>L2 (height over time, each line
      on its own scale)</div>
    <table id="node-table"></table></section>
  <section><h2>L2 inference chain</h2><div id="l2"></div></section>
  <section><h2>Recent L1 blocks</h2><table id="blocks"></table></section>
  <section><h2>Peers</h2><table id="peers"></table></section>
  <section><h2>Mempool</h2><table id="mempool"></table></section>
  <section><h2>Models served</h2><table id="models"></table></section>
  <section><h2>Verifier set</h2><div id="verifiers"></div></section>
  <section class="wide"><h2>Elections (one per L1 block)</h2><div id="elections"></div>
  </section>
  <section class="wide"><h2>Inference transactions</h2><div id="inference"></div></section>
</main>
<script>
"use strict";
const API = "/v1";
const STAGES = ["executed", "in_block", "finalized", "anchored", "confirmed", "reclaimed"];
const PAYOUT = {0: "to key", 1: "to key hash"};
const samples = [];
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c]));
const short = (h) => h ? esc(String(h).slice(0, 16)) + "…" : "";
const mono = (h) => "<span class='mono' title='" + esc(h) + "'>" + short(h) + "</span>";
const fai = (v) => v === null || v === undefined ? "" : "<span data-value='" + esc(v) + "'>" +
  esc((Number(v) / 1e8).toLocaleString("en", {maximumFractionDigits: 8})) + " FAI</span>";
const na = (text) => "<span class='na'>" + esc(text) + "</span>";
const attrs = (data) => Object.entries(data || {}).map(([k, v]) =>
  " data-" + esc(k) + "='" + esc(v) + "'").join("");
function rowsHtml(head, body) {
  // body: rows, each an array of cell HTML or {data: {name: value}, cells: [...]}
  // head: the column titles, or null for a table without a header row
  return (head ? "<tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>" : "") +
    (body.length ? body.map((r) => {
      const row = Array.isArray(r) ? {cells: r} : r;
      return "<tr" + attrs(row.data) + ">" +
        row.cells.map((c) => "<td>" + c + "</td>").join("") + "</tr>";
    }).join("") : "<tr><td class='na' colspan='" + (head ? head.length : 2) + "'>none</td></tr>");
}
const tableHtml = (id, head, body) =>
  "<table id='" + esc(id) + "'>" + rowsHtml(head, body) + "</table>";
function rows(table, head, body) { $(table).innerHTML = rowsHtml(head, body); }
async function get(path) {
  const r = await fetch(API + path, {cache: "no-store"});
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
function kv(table, obj) {
  $(table).innerHTML = Object.entries(obj).map(([k, v]) =>
    "<tr><th>" + esc(k) + "</th><td class='mono'>" + esc(v) + "</td></tr>").join("");
}
function line(id, values) {
  const pts = values.map((v, i) => [i, v]).filter((p) => p[1] !== null && p[1] !== undefined);
  if (!pts.length) { $(id).setAttribute("points", ""); return; }
  const ys = pts.map((p) => p[1]);
  const lo = Math.min(...ys), hi = Math.max(...ys), span = Math.max(1, hi - lo);
  const step = 300 / Math.max(1, values.length - 1);
  $(id).setAttribute("points", pts.map(([i, h]) =>
    (i * step).toFixed(1) + "," + (75 - 70 * (h - lo) / span).toFixed(1)).join(" "));
}
function graph(l1, l2) {
  samples.push([l1, l2]);
  if (samples.length > 150) samples.shift();
  line("l1-line", samples.map((s) => s[0]));
  line("l2-line", samples.map((s) => s[1]));
}
const unavailable = (path) => na("not yet available on this node (" + path + ")");
async function optional(id, path, render) {
  try {
    const data = await get(path);
    $(id).innerHTML = data === null ? unavailable(path) : render(data);
    $(id).dataset.available = data === null ? "0" : "1";
    return data;
  } catch (e) {
    $(id).innerHTML = "<span class='err'>" + esc(e.message) + "</span>";
    return undefined;
  }
}
function renderL2(st) {
  const roles = [];
  if (st.verifier) roles.push("verifier");
  if (st.in_verifier_set) roles.push("in verifier set");
  if (st.registered !== null && st.registered !== undefined) {
    roles.push("executor (registered at L1 " + st.registered + ")");
  }
  const field = (name, label, html) => ({data: {field: name}, cells: ["<b>" + esc(label) +
    "</b>", html]});
  return tableHtml("l2-summary", null, [
    field("height", "height", "<span data-height='" + esc(st.height) + "'>" + esc(st.height) +
      "</span>"),
    field("tip", "tip", mono(st.tip)),
    field("state_root", "state root", mono(st.state_root)),
    field("l1_height", "L1 height seen", esc(st.l1_height)),
    field("blocks", "blocks known", esc(st.blocks)),
    field("finalized", "finalized", esc(st.finalized)),
    field("anchored", "anchored", esc(st.anchored)),
    field("reclaimed", "reclaimed", esc(st.reclaimed)),
    field("mempool", "L2 mempool", esc(st.mempool) + " tx"),
    field("roles", "this node", roles.length
      ? roles.map((r) => "<span class='badge'>" + esc(r) + "</span>").join("")
      : na("no L2 role")),
    field("models", "models", esc((st.models || []).length)),
    field("account", "account", mono(st.account)),
    field("balance", "balance", fai(st.balance)),
    field("bond", "bond", fai(st.bond)),
    field("price_per_token", "price per token", esc(st.price_per_token)),
    field("producer", "producer", st.producer === null || st.producer === undefined
      ? na("not a producer (no VRF key)") : esc(st.producer)),
  ]);
}
function renderElections(d) {
  return tableHtml("elections-table",
    ["L1 height", "L1 block", "commitments", "total bid", "winner", "winning bid",
      "L2 block", "L2 height"],
    (d.elections || []).map((e) => ({
      data: {"l1-height": e.l1_height, winner: e.winner ? e.winner.account : "",
        "l2-height": e.l2_height ?? ""},
      cells: [esc(e.l1_height), mono(e.l1_hash), esc(e.commitments), fai(e.total_bid),
        e.winner ? mono(e.winner.account) : na(e.commitments ? "none" : "no bids"),
        e.winner ? fai(e.winner.bid) : "",
        e.l2_block ? mono(e.l2_block) : na("no block"), esc(e.l2_height ?? "")],
    })));
}
function renderVerifiers(d) {
  const list = d.verifiers || [];
  return "<div class='info' id='verifier-info' data-quorum='" + esc(d.quorum) +
    "' data-count='" + esc(list.length) + "'>quorum " + esc(d.quorum) + " of " +
    esc(list.length) + " · set recomputed every " + esc(d.epoch_length) +
    " L2 blocks</div>" +
    tableHtml("verifiers-table", ["key", "stake", "payout"], list.map((v) => ({
      data: {key: v.key, account: v.account},
      cells: [mono(v.key), fai(v.stake),
        "<span class='badge'>" + esc(PAYOUT[v.payout_kind] ?? v.payout_kind) + "</span>" +
        mono(v.payout)],
    })));
}
function lifecycle(status) {
  const reached = STAGES.indexOf(status);
  return "<span class='steps' data-reached='" + esc(reached) + "'>" + STAGES.map((s, i) =>
    "<span class='step" + (i <= reached ? " on" : "") + (i === reached ? " cur" : "") +
    "' data-stage='" + esc(s) + "'>" + esc(s.replace("_", " ")) + "</span>").join("") +
    "</span>";
}
function renderInference(d) {
  return tableHtml("inference-table",
    ["txid", "model", "gas", "L2 height", "lifecycle", "votes accept/total", "accepted",
      "anchor L1"],
    (d.inference || []).map((t) => ({
      data: {txid: t.txid, status: t.status ?? "", "l2-height": t.l2_height ?? ""},
      cells: [mono(t.txid), mono(t.model_id), esc(t.gas), esc(t.l2_height ?? ""),
        lifecycle(t.status),
        t.votes === null || t.votes === undefined ? na("no votes")
          : esc(t.votes_accept) + "/" + esc(t.votes),
        t.accepted === true ? "<span class='yes'>yes</span>"
          : t.accepted === false ? "<span class='no'>no</span>" : na("pending"),
        esc(t.anchor_l1_height ?? "")],
    })));
}
function l2Height(st) {
  const el = $("l2-height");
  if (st) {
    el.textContent = st.height;
    el.dataset.height = st.height;
    el.removeAttribute("title");
  } else if (st === null) {
    el.textContent = "-";
    delete el.dataset.height;
    el.title = "the inference layer is not yet available on this node";
  }
}
async function refresh() {
  try {
    const s = await get("/status");
    const l2 = await optional("l2", "/l2/status", renderL2);
    $("network").textContent = s.network + " · node " + String(s.node_key).slice(0, 12);
    $("l1-height").textContent = s.l1_height;
    $("l1-height").dataset.height = s.l1_height;
    l2Height(l2);
    graph(s.l1_height, l2 ? l2.height : null);
    kv("node-table", {tip: String(s.l1_tip).slice(0, 24) + "…", peers: s.peers,
      mining: s.mining, "hash rate": s.hash_rate,
      "blocks mined": s.blocks_mined, sync: s.sync ? s.sync.blocks + "/" + s.sync.headers : "",
      uptime: s.uptime + " s", api: s.api, p2p: s.p2p});
    const blocks = [];
    for (let h = s.l1_height; h >= 0 && h > s.l1_height - 8; h--) {
      const b = await get("/blocks/height/" + h);
      if (b) blocks.push(b);
    }
    rows("blocks", ["height", "hash", "time", "txs", "size"], blocks.map((b) => [
      esc(b.height), "<span class='mono'>" + short(b.hash) + "</span>",
      esc(new Date(b.time * 1000).toISOString().slice(11, 19)), esc(b.txids.length),
      esc(b.size)]));
    const p = await get("/peers");
    rows("peers", ["addr", "dir", "height", "latency ms", "agent"], (p ? p.peers : []).map(
      (x) => [esc(x.addr), x.inbound ? "in" : "out", esc(x.height), esc(x.latency_ms),
        esc(x.agent)]));
    const m = await get("/mempool");
    const mp = [["L1", esc(m.size), esc(m.bytes)]];
    if (l2) mp.push(["L2", esc(l2.mempool), ""]);
    rows("mempool", ["layer", "transactions", "bytes"], mp);
    const models = await get("/models");
    rows("models", ["name", "status", "model id"], (models ? models.data : []).map((x) => [
      esc(x.id), esc(x.funai && x.funai.status),
      "<span class='mono'>" + short(x.funai && x.funai.model_id) + "</span>"]));
    await optional("elections", "/l2/elections", renderElections);
    await optional("verifiers", "/l2/verifiers", renderVerifiers);
    await optional("inference", "/l2/inference", renderInference);
    $("updated").textContent = "updated " + new Date().toISOString().slice(11, 19) + " UTC";
    document.body.dataset.ready = "1";
  } catch (e) {
    $("updated").innerHTML = "<span class='err'>" + esc(e.message) + "</span>";
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""


async def status_page(request: Request) -> HTMLResponse:
    return HTMLResponse(STATUS_PAGE, headers={"Cache-Control": "no-cache"})
