// The batchrun UI: the runs of a state directory (/) and one run
// (/runs/ID), drawn from the JSON of /api/runs and /api/runs/ID. Plain
// DOM and SVG, no library, so that it works offline and needs no build.
// Every element a test looks for has an id, a class or a data- attribute;
// text from the run (job names, causes) goes in through textContent only.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

// el builds an HTML element: attrs are attributes (class, data-*, ...),
// children strings or nodes.
function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// svg builds an SVG element the same way.
function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVGNS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return node;
}

async function getJSON(url) {
  const resp = await fetch(url, { cache: "no-store" });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || `${url}: ${resp.status}`);
  return body;
}

// ---- formatting ----

function seconds(s) {
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} m ${Math.round(s % 60)} s`;
}

function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

function count(n) { return (n || 0).toLocaleString("en-US"); }

function when(t) { return new Date(t).toLocaleString(); }

// offset is t's distance from start in seconds.
function offset(t, start) { return (Date.parse(t) - Date.parse(start)) / 1000; }

function stateBadge(state) {
  return el("span", { class: `state state-${state}`, "data-state": state }, state);
}

function runDuration(info) {
  return info.end ? seconds(offset(info.end, info.start)) : "–";
}

// ---- the runs list ----

async function showRuns(app) {
  const runs = await getJSON("/api/runs");
  document.title = "batchrun runs";
  document.getElementById("where").textContent = "runs";
  const rows = runs.map((r) =>
    el("tr", { class: "run", "data-run": r.id, "data-state": r.state, "data-job": r.job },
      el("td", { class: "id mono" }, el("a", { href: `/runs/${r.id}` }, r.id)),
      el("td", { class: "job" }, r.job),
      el("td", { class: "state-cell" }, stateBadge(r.state)),
      el("td", { class: "start" }, when(r.start)),
      el("td", { class: "duration num" }, runDuration(r)),
      el("td", { class: "failovers num", "data-failovers": r.failovers }, count(r.failovers)),
      el("td", { class: "stored num" }, bytes(r.stored_bytes)),
      el("td", { class: "error error" }, r.error || "")));
  app.replaceChildren(
    el("h1", {}, "Runs"),
    runs.length === 0
      ? el("p", { id: "no-runs", class: "muted" }, "No runs in this state directory yet.")
      : el("table", { id: "runs" },
        el("thead", {}, el("tr", {}, ["ID", "Job", "State", "Start", "Duration", "Failovers", "Stored", "Error"]
          .map((h, i) => el("th", { class: i === 4 || i === 5 || i === 6 ? "num" : "" }, h)))),
        el("tbody", {}, rows)));
}

// ---- one run ----

async function showRun(app, id) {
  const view = await getJSON(`/api/runs/${encodeURIComponent(id)}`);
  const info = view.info;
  const report = view.report;
  document.title = `batchrun run ${info.id}`;
  document.getElementById("where").textContent = `run ${info.id}`;
  const parts = [
    el("h1", { id: "run-header", "data-run": info.id, "data-state": info.state },
      `Run ${info.id} of job ${info.job} `, stateBadge(info.state)),
    el("div", { class: "summary", id: "run-summary" },
      el("span", {}, `started ${when(info.start)}`),
      el("span", {}, `duration ${runDuration(info)}`),
      el("span", {}, `${info.invocations} invocation(s)`),
      el("span", { id: "run-failovers", "data-failovers": info.failovers }, `${info.failovers} failover(s)`),
      el("span", {}, `spec ${info.spec}`),
      report ? el("span", {}, `${count(report.rows_written)} rows written`) : null,
      report && report.outputs && report.outputs.length ? el("span", {}, `outputs ${report.outputs.join(" ")}`) : null),
    info.error ? el("p", { class: "error", id: "run-error" }, info.error) : null,
  ];
  if (!report) {
    parts.push(el("p", { class: "muted", id: "no-report" },
      "No report: the run's process died before it ended (or it is still running). Its events:"),
    eventsTable(view.events, info.start));
    app.replaceChildren(...parts.filter(Boolean));
    return;
  }
  parts.push(el("h2", {}, "Stage graph"));
  if (report.graph) {
    parts.push(dagLegend(), el("div", { class: "scroll" }, drawDAG(report.graph)));
  } else {
    parts.push(el("p", { class: "muted" }, "This report predates the stage graph; its plan:"),
      el("pre", { id: "plan-text" }, report.plan));
  }
  parts.push(el("h2", {}, "Timeline"), timelineLegend(),
    el("div", { class: "scroll" }, drawTimeline(report)));
  parts.push(el("h2", {}, `Failovers (${(report.failovers || []).length})`), failoversTable(report));
  parts.push(el("h2", {}, "Stages"), stagesTable(report));
  app.replaceChildren(...parts.filter(Boolean));
  linkFailovers(app);
}

function eventsTable(events, start) {
  return el("table", { id: "events" },
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "At"), el("th", {}, "Event"), el("th", {}, "Subtask"), el("th", {}, "Detail"))),
    el("tbody", {}, events.map((ev) => el("tr", { class: "event", "data-event": ev.event },
      el("td", { class: "num" }, `+${offset(ev.time, start).toFixed(3)} s`),
      el("td", {}, ev.event), el("td", { class: "mono" }, ev.subtask || ""), el("td", {}, ev.detail || "")))));
}

// ---- the stage graph: a layered layout, left to right ----

const NODE_W = 200, LINE_H = 15, PAD = 8, GAP_X = 150, GAP_Y = 28, MARGIN = 24;

// layers puts each stage one layer right of its furthest input.
function layers(graph) {
  const inputs = new Map(graph.stages.map((s) => [s.id, []]));
  for (const e of graph.edges) inputs.get(e.to).push(e.from);
  const depth = new Map();
  const visit = (id) => {
    if (depth.has(id)) return depth.get(id);
    depth.set(id, 0); // the plan is a DAG; this only guards a malformed one
    const d = Math.max(-1, ...inputs.get(id).map(visit)) + 1;
    depth.set(id, d);
    return d;
  };
  graph.stages.forEach((s) => visit(s.id));
  return depth;
}

// regionsOf maps each stage id to the ids of the regions its subtasks are in.
function regionsOf(graph) {
  const bySubtask = new Map();
  for (const r of graph.regions) for (const s of r.subtasks) bySubtask.set(s, r.id);
  return new Map(graph.stages.map((s) => [s.id, [...new Set(s.subtasks.map((t) => bySubtask.get(t)).filter(Boolean))]]));
}

function shortList(ids) {
  return ids.length <= 3 ? ids.join(" ") : `${ids.slice(0, 2).join(" ")} … ${ids[ids.length - 1]} (${ids.length})`;
}

function edgeLabel(e) {
  const part = e.partitioner === "hash" && e.keys.length ? `hash[${e.keys.join(",")}]` : e.partitioner;
  return `${part} · ${e.mode}`;
}

function drawDAG(graph) {
  const depth = layers(graph);
  const regions = regionsOf(graph);
  const pos = new Map();
  const columnY = [];
  for (const s of graph.stages) {
    const d = depth.get(s.id);
    const lines = 2 + s.ops.length;
    const h = PAD * 2 + LINE_H * lines;
    const y = columnY[d] === undefined ? MARGIN + 16 : columnY[d];
    pos.set(s.id, { x: MARGIN + d * (NODE_W + GAP_X), y, h });
    columnY[d] = y + h + GAP_Y;
  }
  const width = MARGIN * 2 + (Math.max(...depth.values()) + 1) * (NODE_W + GAP_X) - GAP_X;
  const height = Math.max(...columnY.filter((v) => v !== undefined)) + MARGIN;
  const root = svg("svg", { id: "dag", width, height, viewBox: `0 0 ${width} ${height}`, "data-stages": graph.stages.length });
  root.append(...regionGroups(graph, pos));
  for (const e of graph.edges) root.append(drawEdge(e, pos.get(e.from), pos.get(e.to)));
  for (const s of graph.stages) root.append(drawStage(s, pos.get(s.id), regions.get(s.id)));
  return root;
}

function drawStage(s, p, regionIDs) {
  const g = svg("g", { class: "stage", "data-stage": s.name, "data-stage-id": s.id, "data-parallelism": s.parallelism,
    "data-regions": regionIDs.join(" "), transform: `translate(${p.x},${p.y})` });
  g.append(svg("title", {}, `${s.id} ${s.name}: ${s.ops.join(" -> ")}\nsubtasks ${s.subtasks.join(" ")}\nregions ${regionIDs.join(" ")}`));
  g.append(svg("rect", { width: NODE_W, height: p.h, rx: 5 }));
  let y = PAD + 11;
  g.append(svg("text", { class: "title", x: PAD, y }, `${s.id} ${s.name} ×${s.parallelism}`));
  for (const op of s.ops) {
    y += LINE_H;
    g.append(svg("text", { class: "ops", x: PAD + 6, y }, op));
  }
  y += LINE_H;
  g.append(svg("text", { class: "regions", x: PAD, y }, `regions ${shortList(regionIDs)}`));
  return g;
}

function drawEdge(e, a, b) {
  const x1 = a.x + NODE_W, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
  const mx = (x1 + x2) / 2;
  const g = svg("g", { class: `edge ${e.mode}`, "data-edge": e.id, "data-from": e.from, "data-to": e.to,
    "data-mode": e.mode, "data-partitioner": e.partitioner, "data-port": e.port });
  const label = edgeLabel(e);
  g.append(svg("title", {}, `${e.id} ${e.from} -> ${e.to} port ${e.port}: ${label}${e.deterministic ? "" : " (nondeterministic)"}`));
  g.append(svg("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}` }));
  g.append(svg("polygon", { points: `${x2},${y2} ${x2 - 7},${y2 - 4} ${x2 - 7},${y2 + 4}`, fill: "#5b6470" }));
  const lw = label.length * 6 + 6;
  const ly = (y1 + y2) / 2;
  g.append(svg("rect", { class: "label-bg", x: mx - lw / 2, y: ly - 11, width: lw, height: 14, rx: 3 }));
  g.append(svg("text", { class: "edge-label", x: mx, y: ly, "text-anchor": "middle" }, label));
  return g;
}

// regionGroups outlines the stages that pipelined edges join: their
// subtasks run together, as one region per connected group.
function regionGroups(graph, pos) {
  const parent = new Map(graph.stages.map((s) => [s.id, s.id]));
  const find = (x) => (parent.get(x) === x ? x : find(parent.get(x)));
  for (const e of graph.edges) if (e.mode === "pipelined") parent.set(find(e.from), find(e.to));
  const groups = new Map();
  for (const s of graph.stages) {
    const r = find(s.id);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r).push(s.id);
  }
  const regions = regionsOf(graph);
  const out = [];
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const boxes = members.map((id) => pos.get(id));
    const x = Math.min(...boxes.map((b) => b.x)) - 10, y = Math.min(...boxes.map((b) => b.y)) - 18;
    const x2 = Math.max(...boxes.map((b) => b.x + NODE_W)) + 10, y2 = Math.max(...boxes.map((b) => b.y + b.h)) + 8;
    const ids = [...new Set(members.flatMap((id) => regions.get(id)))];
    out.push(svg("g", { "data-region-group": members.join(" "), "data-regions": ids.join(" ") },
      svg("rect", { class: "region-group", x, y, width: x2 - x, height: y2 - y, rx: 8 }),
      svg("text", { class: "region-group-label", x: x + 6, y: y + 12 }, `pipelined region ${shortList(ids)}`)));
  }
  return out;
}

function dagLegend() {
  return el("div", { class: "legend" },
    el("span", {}, "solid edge: pipelined"), el("span", {}, "dashed edge: blocking (stored)"),
    el("span", {}, "dotted box: stages whose subtasks run together (one pipelined region)"));
}

// ---- the timeline: one row per subtask, one bar per attempt ----

const LABEL_W = 150, TL_W = 900, ROW_H = 18, AXIS_H = 22, FO_H = 16;

function subtaskOrder(report) {
  const order = [];
  const seen = new Set();
  const add = (s) => { if (!seen.has(s)) { seen.add(s); order.push(s); } };
  if (report.graph) report.graph.stages.forEach((s) => s.subtasks.forEach(add));
  (report.attempts || []).forEach((a) => add(a.subtask));
  return order.filter((s) => (report.attempts || []).some((a) => a.subtask === s));
}

function drawTimeline(report) {
  const attempts = report.attempts || [];
  const failovers = report.failovers || [];
  const rows = subtaskOrder(report);
  const rowOf = new Map(rows.map((s, i) => [s, i]));
  const total = Math.max(report.seconds || 0, ...attempts.map((a) => offset(a.end, report.start)),
    ...failovers.map((f) => offset(f.time, report.start)), 1e-3);
  const x = (t) => LABEL_W + (Math.max(0, t) / total) * TL_W;
  const top = AXIS_H + FO_H;
  const height = top + rows.length * ROW_H + 8;
  const root = svg("svg", { id: "timeline", width: LABEL_W + TL_W + 20, height, "data-seconds": total });
  root.append(axis(total, x, height));
  rows.forEach((s, i) => {
    root.append(svg("rect", { class: "row-bg", x: 0, y: top + i * ROW_H, width: LABEL_W + TL_W + 20, height: ROW_H, fill: "none" }));
  });
  // The restart sets, behind the bars: from the failover to the end.
  failovers.forEach((f, i) => {
    for (const s of f.subtasks || []) {
      if (!rowOf.has(s)) continue;
      root.append(svg("rect", { class: "restart-band", "data-failover": i, "data-subtask": s,
        x: x(offset(f.time, report.start)), y: top + rowOf.get(s) * ROW_H + 1,
        width: Math.max(2, x(total) - x(offset(f.time, report.start))), height: ROW_H - 2 }));
    }
  });
  const restarted = new Set(failovers.flatMap((f) => f.subtasks || []));
  rows.forEach((s, i) => {
    root.append(svg("text", { class: `row-label${restarted.has(s) ? " restarted" : ""}`, "data-subtask": s,
      x: 4, y: top + i * ROW_H + 13 }, s));
  });
  for (const a of attempts) {
    const x1 = x(offset(a.start, report.start)), x2 = x(offset(a.end, report.start));
    const bar = svg("rect", { class: `attempt outcome-${a.outcome}`, "data-subtask": a.subtask, "data-attempt": a.attempt,
      "data-outcome": a.outcome, "data-worker": a.worker, x: x1, y: top + rowOf.get(a.subtask) * ROW_H + 3,
      width: Math.max(2, x2 - x1), height: ROW_H - 6, rx: 2 });
    bar.append(svg("title", {}, `${a.subtask}#${a.attempt} on ${a.worker || "?"}: ${a.outcome} in ${seconds(a.seconds)}, ` +
      `${count(a.rows_in)} rows in, ${count(a.rows_out)} out${a.cause ? `\n${a.cause}` : ""}`));
    root.append(bar);
  }
  failovers.forEach((f, i) => {
    const fx = x(offset(f.time, report.start));
    root.append(svg("g", { class: "failover", "data-failover": i, "data-failed": f.failed },
      svg("title", {}, `failover ${i + 1}: ${f.failed} failed: ${f.cause}\nrestart ${(f.subtasks || []).join(" ")}`),
      svg("line", { x1: fx, x2: fx, y1: AXIS_H, y2: height - 4 }),
      svg("text", { x: fx + 3, y: AXIS_H + 11 }, `F${i + 1} ${f.failed}`)));
  });
  return root;
}

function axis(total, x, height) {
  const g = svg("g", { class: "axis" });
  const step = niceStep(total / 8);
  for (let t = 0; t <= total + 1e-9; t += step) {
    g.append(svg("line", { x1: x(t), x2: x(t), y1: AXIS_H - 4, y2: height - 4 }),
      svg("text", { x: x(t), y: AXIS_H - 8, "text-anchor": "middle" }, seconds(t)));
  }
  return g;
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function timelineLegend() {
  return el("div", { class: "legend" },
    ["succeeded", "failed", "canceled", "lost"].map((o) =>
      el("span", {}, el("span", { class: `swatch outcome-${o}` }), o)),
    el("span", {}, el("span", { class: "swatch restart" }), "restart set of a failover (F1, F2…)"));
}

function failoversTable(report) {
  const failovers = report.failovers || [];
  if (failovers.length === 0) return el("p", { class: "muted", id: "no-failovers" }, "None.");
  return el("table", { id: "failovers" },
    el("thead", {}, el("tr", {}, ["", "At", "Failed", "Cause", "Strategy", "Restart set", "Re-run", "Rows recomputed", "Why"]
      .map((h) => el("th", {}, h)))),
    el("tbody", {}, failovers.map((f, i) =>
      el("tr", { class: "failover-row", "data-failover": i, "data-failed": f.failed, "data-aftermath": !!f.aftermath },
        el("td", {}, `F${i + 1}`),
        el("td", { class: "num" }, `+${offset(f.time, report.start).toFixed(3)} s`),
        el("td", { class: "mono" }, f.failed),
        el("td", { class: "error" }, f.cause + (f.aftermath ? " (aftermath, not counted)" : "")),
        el("td", {}, f.strategy),
        el("td", { class: "restart-set" }, (f.subtasks || []).map((s) => el("span", { class: "chip", "data-subtask": s }, s)),
          el("div", { class: "muted" }, `regions ${(f.regions || []).join(" ")}`)),
        el("td", { class: "num" }, `${f.subtasks_rerun} attempt(s), ${seconds(f.seconds || 0)}`),
        el("td", { class: "num" }, count(f.rows_recomputed)),
        el("td", {}, (f.reasons || []).map((r) => el("div", {}, r)))))));
}

// linkFailovers highlights a failover's restart set in the timeline while
// the pointer is on its row.
function linkFailovers(app) {
  for (const row of app.querySelectorAll("tr.failover-row")) {
    const bands = () => app.querySelectorAll(`#timeline .restart-band[data-failover="${row.dataset.failover}"]`);
    row.addEventListener("mouseenter", () => bands().forEach((b) => b.classList.add("highlight")));
    row.addEventListener("mouseleave", () => bands().forEach((b) => b.classList.remove("highlight")));
  }
}

function stagesTable(report) {
  const cols = [
    ["Subtasks", (s) => s.subtasks], ["Attempts", (s) => s.attempts],
    ["Rows in", (s) => count(s.rows_in)], ["Rows out", (s) => count(s.rows_out)], ["Skipped", (s) => count(s.rows_skipped)],
    ["Spilled (Arrow)", (s) => bytes(s.bytes_spilled)], ["Stored", (s) => bytes(s.bytes_stored)],
    ["Operators spilled", (s) => bytes(s.bytes_spilled_operators)], ["Spill runs", (s) => count(s.spill_runs)],
    ["Time", (s) => seconds(s.seconds || 0)],
  ];
  return el("table", { id: "stages" },
    el("thead", {}, el("tr", {}, el("th", {}, "Stage"), el("th", {}, "Ops"), cols.map(([h]) => el("th", { class: "num" }, h)))),
    el("tbody", {}, (report.stages || []).map((s) =>
      el("tr", { class: "stage-row", "data-stage": s.name, "data-stage-id": s.id, "data-rows-out": s.rows_out },
        el("td", { class: "mono" }, `${s.id} ${s.name}`), el("td", { class: "mono" }, s.ops),
        cols.map(([, f]) => el("td", { class: "num" }, f(s)))))));
}

// ---- routing ----

async function main() {
  const app = document.getElementById("app");
  const m = location.pathname.match(/^\/runs\/([^/]+)$/);
  try {
    if (m) await showRun(app, decodeURIComponent(m[1]));
    else await showRuns(app);
  } catch (err) {
    app.replaceChildren(el("p", { class: "error", id: "load-error" }, String(err.message || err)));
  }
  app.dataset.loaded = "true"; // tests wait for this
}

main();
