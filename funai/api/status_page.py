"""The status page served at ``/``: one self-contained HTML document (inline CSS and JS, no
build step, no external requests) that polls the node's JSON API every two seconds.

Sections: node, L1 chain (height graph and recent blocks), peers, mempool, models; the L2
chain, elections, verifier set and inference transactions read ``/v1/l2/status``,
``/v1/l2/elections``, ``/v1/l2/verifiers`` and ``/v1/l2/inference`` and show "not yet
available" while those endpoints answer 404 (issue 7).
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
  :root { --fg:#1d2330; --mut:#6b7280; --bg:#f6f7f9; --card:#fff; --acc:#2563eb; --bad:#b91c1c; }
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
  h2 { font-size:15px; margin:0 0 8px; }
  table { border-collapse:collapse; width:100%; }
  td, th { text-align:left; padding:3px 6px; border-bottom:1px solid #eee; white-space:nowrap; }
  th { color:var(--mut); font-weight:500; }
  .mono { font-family:ui-monospace,monospace; font-size:12px; }
  .big { font-size:28px; font-weight:600; }
  .na { color:var(--mut); font-style:italic; }
  .err { color:var(--bad); }
  svg { width:100%; height:80px; background:#fafafa; border-radius:4px; }
</style>
</head>
<body>
<header><h1>FUN AI node</h1><span id="network">…</span><span id="updated">connecting…</span>
</header>
<main>
  <section><h2>L1 ledger (proof of work)</h2>
    <div>height <span class="big" id="l1-height">…</span></div>
    <svg id="l1-graph" viewBox="0 0 300 80" preserveAspectRatio="none">
      <polyline id="l1-line" fill="none" stroke="#2563eb" stroke-width="2" points=""/></svg>
    <table id="node-table"></table></section>
  <section><h2>Recent L1 blocks</h2><table id="blocks"></table></section>
  <section><h2>Peers</h2><table id="peers"></table></section>
  <section><h2>Mempool</h2><table id="mempool"></table></section>
  <section><h2>Models served</h2><table id="models"></table></section>
  <section><h2>L2 inference chain</h2><div id="l2"></div></section>
  <section><h2>Elections</h2><div id="elections"></div></section>
  <section><h2>Verifier set</h2><div id="verifiers"></div></section>
  <section><h2>Inference transactions</h2><div id="inference"></div></section>
</main>
<script>
"use strict";
const API = "/v1";
const history = [];
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c]));
const short = (h) => h ? esc(String(h).slice(0, 16)) + "…" : "";
function rows(table, head, body) {
  $(table).innerHTML = "<tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>" +
    (body.length ? body.map((r) => "<tr>" + r.map((c) => "<td>" + c + "</td>").join("") +
      "</tr>").join("") : "<tr><td class='na' colspan='" + head.length + "'>none</td></tr>");
}
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
function graph(height) {
  history.push(height);
  if (history.length > 150) history.shift();
  const lo = Math.min(...history), hi = Math.max(...history), span = Math.max(1, hi - lo);
  const step = 300 / Math.max(1, history.length - 1);
  $("l1-line").setAttribute("points", history.map((h, i) =>
    (i * step).toFixed(1) + "," + (75 - 70 * (h - lo) / span).toFixed(1)).join(" "));
}
async function optional(id, path, render) {
  try {
    const data = await get(path);
    $(id).innerHTML = data === null
      ? "<span class='na'>not yet available on this node (" + esc(path) + ")</span>"
      : render(data);
  } catch (e) { $(id).innerHTML = "<span class='err'>" + esc(e.message) + "</span>"; }
}
const pre = (d) => "<pre class='mono'>" + esc(JSON.stringify(d, null, 1)) + "</pre>";
async function refresh() {
  try {
    const s = await get("/status");
    $("network").textContent = s.network + " · node " + String(s.node_key).slice(0, 12);
    $("l1-height").textContent = s.l1_height;
    $("l1-height").dataset.height = s.l1_height;
    graph(s.l1_height);
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
    rows("mempool", ["layer", "transactions", "bytes"], [["L1", esc(m.size), esc(m.bytes)]]);
    const models = await get("/models");
    rows("models", ["name", "status", "model id"], (models ? models.data : []).map((x) => [
      esc(x.id), esc(x.funai && x.funai.status),
      "<span class='mono'>" + short(x.funai && x.funai.model_id) + "</span>"]));
    await optional("l2", "/l2/status", pre);
    await optional("elections", "/l2/elections", pre);
    await optional("verifiers", "/l2/verifiers", pre);
    await optional("inference", "/l2/inference", pre);
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
