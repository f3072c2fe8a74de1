/* driftcheck HTML report: the fleet table, host sections and package matrices, drawn a page at
   a time from the embedded JSON. Every value from the report is set with textContent, never as
   markup; links only ever point at ids computed by driftcheck. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var V = data.values;
  var FIELD = {};
  data.fields.forEach(function (name, i) { FIELD[name] = i; });
  var COL = {}; // a host row's slots by name (model/vocab.py: HOST_COLUMNS)
  data.host_columns.forEach(function (name, i) { COL[name] = i; });
  var CATEGORIES = data.categories;
  var STATUS_ORDER = {};
  data.statuses.forEach(function (name, i) { STATUS_ORDER[name] = i; });
  var MARK = data.marks;
  var NOT_AUDITED = data.not_audited;
  var CODE = data.codes; // status letter of a host strip -> status (report/timeline.py)
  var RUNS = data.runs || [];
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var $ = function (id) { return document.getElementById(id); };

  /* ---- data ---------------------------------------------------------------------------- */

  function field(finding, name) {
    var ref = finding[FIELD[name]];
    return ref === undefined ? null : V[ref];
  }

  function unpackHost(row, index) {
    var strip = row[COL.strip];
    var host = {
      index: index, name: row[COL.name], id: row[COL.id], address: V[row[COL.address]],
      status: row[COL.status], groups: row[COL.groups].map(function (g) { return String(V[g]); }),
      error: row[COL.error], duration: row[COL.duration],
      stateFiles: row[COL.state_files].map(function (s) { return V[s]; }),
      facts: row[COL.facts], refs: row[COL.findings], cluster: row[COL.cluster],
      peers: row[COL.peers] || "", counts: {}, total: 0, haystack: null,
      strip: typeof strip === "string" ? strip : null,
    };
    host.os = fact(host, "os");
    host.age = fact(host, "age_days");
    host.refs.forEach(function (ref) {
      var finding = data.findings[ref];
      if (field(finding, "waived")) return;
      var category = field(finding, "category");
      var key = CATEGORIES.indexOf(category) >= 0 ? category : "other";
      host.counts[key] = (host.counts[key] || 0) + 1;
      host.total += 1;
    });
    return host;
  }

  function fact(host, name) {
    return Object.prototype.hasOwnProperty.call(host.facts, name) ? V[host.facts[name]] : null;
  }

  function haystack(host) {
    if (host.haystack === null) {
      var parts = [host.name, host.address, host.os, host.status, host.error].concat(host.groups);
      host.refs.forEach(function (ref) {
        var finding = data.findings[ref];
        parts.push(field(finding, "item"), field(finding, "expected"), field(finding, "actual"));
      });
      host.haystack = parts.filter(function (p) { return p !== null && p !== undefined; })
        .join("\n").toLowerCase();
    }
    return host.haystack;
  }

  var hosts = data.hosts.map(unpackHost);
  var byId = new Map(hosts.map(function (h) { return [h.id, h]; }));
  var byName = new Map(hosts.map(function (h) { return [h.name, h]; }));

  /* ---- state: filters, sort, page ------------------------------------------------------ */

  var DEFAULTS = { status: "", group: "", cluster: "", text: "", sort: "status", dir: 1 };
  var state = Object.assign({ page: 0, size: 50 }, DEFAULTS);
  var shown = [];

  var COLUMNS = {
    name: function (h) { return h.name; },
    status: function (h) { return STATUS_ORDER[h.status] === undefined ? 9 : STATUS_ORDER[h.status]; },
    groups: function (h) { return h.groups.join(", "); },
    total: function (h) { return h.total; },
    os: function (h) { return h.os === null ? "" : String(h.os); },
    age: function (h) { return typeof h.age === "number" ? h.age : -1; },
  };
  CATEGORIES.concat(["other"]).forEach(function (c) {
    COLUMNS[c] = function (h) { return h.counts[c] || 0; };
  });

  function matches(host) {
    if (state.status === "not-audited") {
      if (NOT_AUDITED.indexOf(host.status) < 0) return false;
    } else if (state.status && host.status !== state.status) return false;
    if (state.group && host.groups.indexOf(state.group) < 0) return false;
    if (state.cluster === "unique") {
      if (host.cluster !== 0 || host.status !== "snowflake" || host.total === 0) return false;
    } else if (state.cluster && String(host.cluster) !== state.cluster) return false;
    return !state.text || haystack(host).indexOf(state.text.toLowerCase()) >= 0;
  }

  function compare(a, b) {
    var key = COLUMNS[state.sort];
    var x = key(a), y = key(b);
    var order = typeof x === "number" ? x - y : collator.compare(x, y);
    return order * state.dir || collator.compare(a.name, b.name) || a.index - b.index;
  }

  function refresh() {
    // In print every host is shown, whatever the filters and page on screen.
    shown = (printing ? hosts.slice() : hosts.filter(matches)).sort(compare);
    var pages = Math.max(1, Math.ceil(shown.length / state.size));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    var start = state.page * state.size;
    var slice = shown.slice(start, start + state.size);
    renderTable(slice);
    renderHosts(slice);
    renderPager(start, slice.length, pages);
  }

  /* ---- DOM helpers --------------------------------------------------------------------- */

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function hostLink(id, name) {
    var a = el("a", null, name);
    a.href = "#" + id;
    return a;
  }

  function statusBadge(status) {
    var span = el("span", "status s-" + status);
    span.appendChild(el("span", null, (MARK[status] || "?") + " ")).setAttribute("aria-hidden", "true");
    span.appendChild(document.createTextNode(String(status)));
    return span;
  }

  function show(value) {
    if (value === null || value === undefined) return "—";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  /* ---- the fleet table ----------------------------------------------------------------- */

  function renderTable(slice) {
    var body = $("fleet-body");
    var rows = document.createDocumentFragment();
    slice.forEach(function (host) { rows.appendChild(tableRow(host)); });
    body.replaceChildren(rows);
    document.querySelectorAll("#fleet-table thead th").forEach(function (th) {
      if (th.dataset.col === state.sort) {
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      } else th.removeAttribute("aria-sort");
    });
  }

  function tableRow(host) {
    var tr = el("tr", "s-" + host.status);
    var th = el("th");
    th.scope = "row";
    th.appendChild(hostLink(host.id, host.name));
    tr.appendChild(th);
    tr.appendChild(el("td")).appendChild(statusBadge(host.status));
    tr.appendChild(el("td", null, host.groups.join(", ")));
    CATEGORIES.concat(["other", "total"]).forEach(function (c) {
      var n = COLUMNS[c](host);
      tr.appendChild(el("td", n ? "num" : "num zero", n));
    });
    tr.appendChild(el("td", null, show(host.os)));
    tr.appendChild(el("td", "num", typeof host.age === "number" ? host.age.toFixed(0) : "unknown"));
    return tr;
  }

  function renderPager(start, count, pages) {
    var total = shown.length;
    $("fleet-count").textContent = total === hosts.length
      ? "All " + total + " hosts."
      : total + " of " + hosts.length + " hosts match the filters.";
    $("page-info").textContent = count
      ? "Rows " + (start + 1) + "–" + (start + count) + " of " + total + " (page " + (state.page + 1) + " of " + pages + ")"
      : "No host matches.";
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
  }

  /* ---- host sections ------------------------------------------------------------------- */

  function renderHosts(slice) {
    var list = document.createDocumentFragment();
    slice.forEach(function (host) { list.appendChild(hostSection(host)); });
    $("host-list").replaceChildren(list);
  }

  function hostSection(host) {
    var section = el("section", "host s-" + host.status);
    section.id = host.id;
    section.tabIndex = -1;
    var h3 = section.appendChild(el("h3"));
    h3.appendChild(el("span", null, host.name));
    h3.appendChild(statusBadge(host.status));
    var meta = [show(host.address), "groups: " + (host.groups.join(", ") || "none")];
    if (host.stateFiles.length) meta.push("states: " + host.stateFiles.join(", "));
    if (host.peers) meta.push("peers: " + host.peers);
    if (typeof host.duration === "number") meta.push("audited in " + host.duration.toFixed(2) + " s");
    section.appendChild(el("p", "meta", meta.join(" · ")));
    if (host.strip) section.appendChild(stripBlock(host.strip));
    if (host.error !== null && host.error !== undefined) section.appendChild(reasonBox(host));
    section.appendChild(findingsBlock(host));
    section.appendChild(factsBlock(host));
    section.appendChild(el("p")).appendChild(hostLink("fleet", "↑ back to the fleet table"));
    return section;
  }

  /* One cell per run of the trend, oldest first: the letter, the status mark, and the run in
     its title, so the strip reads without colour and in print. */
  function stripBlock(strip) {
    var p = el("p", "timeline", "Status over the last " + strip.length + " runs (oldest first): ");
    var cells = p.appendChild(el("span", "strip"));
    cells.setAttribute("role", "img");
    cells.setAttribute("aria-label", runLengths(strip));
    strip.split("").forEach(function (code, i) {
      var status = CODE[code] || (code === "-" ? "not in this run" : "other");
      var cell = cells.appendChild(el("span", "k-" + (CODE[code] ? code : "x"), CODE[code] ? MARK[status] : "·"));
      var run = RUNS[i] || ["?", "?"];
      cell.title = "run " + run[0] + " · " + run[1] + ": " + status;
    });
    return p;
  }

  function runLengths(strip) {
    var parts = [], i = 0;
    while (i < strip.length) {
      var j = i;
      while (j < strip.length && strip[j] === strip[i]) j += 1;
      parts.push((CODE[strip[i]] || "not in the run") + " " + (j - i) + "×");
      i = j;
    }
    return "Status per run, oldest first: " + parts.join(", ");
  }

  function reasonBox(host) {
    var box = el("div", "reason-box");
    var label = NOT_AUDITED.indexOf(host.status) >= 0
      ? "Not audited (" + host.status + "): " : "Error: ";
    box.appendChild(el("strong", null, label));
    box.appendChild(el("span", "reason", host.error));
    return box;
  }

  function findingsBlock(host) {
    var block = el("div", "findings-block");
    if (!host.refs.length) {
      var audited = host.status === "compliant" || host.status === "snowflake";
      block.appendChild(el("p", null, audited ? "✓ No drift: matches the declared state."
        : "No findings: the host was not audited, its state is unknown."));
      return block;
    }
    var groups = new Map();
    host.refs.forEach(function (ref) {
      var finding = data.findings[ref];
      var category = String(field(finding, "category"));
      if (!groups.has(category)) groups.set(category, []);
      groups.get(category).push(finding);
    });
    var order = CATEGORIES.filter(function (c) { return groups.has(c); });
    groups.forEach(function (_, c) { if (order.indexOf(c) < 0) order.push(c); });
    order.forEach(function (category) {
      block.appendChild(el("h4", null, category + " (" + groups.get(category).length + ")"));
      block.appendChild(findingsTable(groups.get(category)));
    });
    return block;
  }

  function findingsTable(findings) {
    var table = el("table", "findings");
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    ["Item", "Kind", "Expected", "Actual", "Notes"].forEach(function (label) {
      head.appendChild(el("th", null, label)).scope = "col";
    });
    var body = table.appendChild(el("tbody"));
    findings.forEach(function (finding) {
      body.appendChild(findingRow(finding));
      var diff = field(finding, "diff");
      if (diff) {
        var cell = body.appendChild(el("tr", "diff-row")).appendChild(el("td"));
        cell.colSpan = 5;
        cell.appendChild(diffBlock(String(diff)));
      }
      var evidence = field(finding, "evidence");
      if (Array.isArray(evidence) && evidence.length) {
        var proof = body.appendChild(el("tr", "evidence-row")).appendChild(el("td"));
        proof.colSpan = 5;
        proof.appendChild(evidenceList(evidence));
      }
    });
    return table;
  }

  /* What the host's own records say about how a finding came to be: one line per record,
     every value set as text (a host wrote them all). */
  function evidenceList(items) {
    var list = el("ul", "evidence");
    list.setAttribute("aria-label", "evidence from the host's own records");
    items.forEach(function (e) {
      if (!e || typeof e !== "object") return;
      var said = [e.command, e.user && e.source !== "wtmp" ? "requested by " + e.user : null]
        .filter(Boolean).map(String);
      var li = list.appendChild(el("li"));
      li.appendChild(el("span", "evidence-source", String(e.source) + (e.time ? " " + String(e.time) : "") + ": "));
      li.appendChild(el("span", null, String(e.summary) + (said.length ? " (" + said.join(", ") + ")" : "")));
    });
    return list;
  }

  function findingRow(finding) {
    var waived = field(finding, "waived");
    var tr = el("tr", waived ? "waived" : null);
    var target = field(finding, "target");
    var item = el("td", "mono", (target && target !== "host" ? "[" + target + "] " : "") + show(field(finding, "item")));
    tr.appendChild(item);
    tr.appendChild(el("td", null, show(field(finding, "kind"))));
    tr.appendChild(el("td", "expected", show(field(finding, "expected"))));
    tr.appendChild(el("td", "actual", show(field(finding, "actual"))));
    tr.appendChild(notesCell(finding, waived));
    return tr;
  }

  function notesCell(finding, waived) {
    var td = el("td");
    if (field(finding, "new")) td.appendChild(el("span", "badge new", "NEW"));
    if (waived) {
      td.appendChild(el("span", "badge waived", "WAIVED"));
      var w = typeof waived === "object" ? waived : {};
      td.appendChild(el("span", null, [w.reason, w.by && "by " + w.by, w.expires && "until " + w.expires]
        .filter(Boolean).map(String).join(", ") + " "));
    }
    var detail = field(finding, "detail");
    if (detail) td.appendChild(el("span", null, String(detail)));
    var seen = field(finding, "first_seen");
    var runs = field(finding, "runs");
    if (seen) {
      var since = " since " + String(seen).slice(0, 10);
      if (typeof runs === "number") since += ", " + runs + (runs === 1 ? " run" : " runs");
      td.appendChild(el("span", "note since", since));
    }
    return td;
  }

  function diffBlock(text) {
    var pre = el("pre", "diff");
    pre.setAttribute("aria-label", "unified diff: lines starting with + were added, − removed");
    text.replace(/\n$/, "").split("\n").forEach(function (line) {
      var cls = "ctx";
      if (line.startsWith("+++") || line.startsWith("---")) cls = "file";
      else if (line.startsWith("@@")) cls = "hunk";
      else if (line.startsWith("+")) cls = "add";
      else if (line.startsWith("-")) cls = "del";
      pre.appendChild(el("span", cls, line || " "));
    });
    return pre;
  }

  function factsBlock(host) {
    var details = el("details", "facts");
    details.appendChild(el("summary", null, "Facts"));
    var keys = Object.keys(host.facts);
    if (!keys.length) {
      details.appendChild(el("p", null, "No facts collected."));
      return details;
    }
    var dl = details.appendChild(el("dl"));
    keys.forEach(function (key) {
      dl.appendChild(el("dt", null, key));
      dl.appendChild(el("dd", null, show(V[host.facts[key]])));
    });
    return details;
  }

  /* ---- package spread ------------------------------------------------------------------ */

  var SPREAD_ROWS = 200;

  function renderSpread(details) {
    var box = details.querySelector(".matrix");
    if (box.dataset.rows) return;
    var group = data.spread[Number(details.dataset.spread)];
    var modes = group.majority;
    var table = el("table");
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    head.appendChild(el("th", null, "host")).scope = "col";
    group.packages.forEach(function (p, col) {
      var th = head.appendChild(el("th", null, p));
      th.scope = "col";
      var ref = modes[col];
      var note = ref < 0 ? "no consensus"
        : "majority: " + (ref === 0 ? "not installed" : show(V[ref])) + " (" + group.held[col] + " of " + group.hosts.length + ")";
      th.appendChild(el("small", ref < 0 ? "no-consensus" : "majority", note));
    });
    table.appendChild(el("tbody"));
    box.replaceChildren(table);
    box.dataset.rows = "0";
    appendSpreadRows(box, group, modes);
  }

  function appendSpreadRows(box, group, modes) {
    var start = Number(box.dataset.rows), end = Math.min(group.hosts.length, start + SPREAD_ROWS);
    var body = box.querySelector("tbody");
    for (var i = start; i < end; i++) {
      var tr = body.appendChild(el("tr"));
      var th = tr.appendChild(el("th"));
      th.scope = "row";
      th.appendChild(hostLink(group.ids[i], group.hosts[i]));
      group.cells[i].forEach(function (ref, col) {
        var odd = modes[col] >= 0 && ref !== modes[col];
        var text = ref === 0 ? "—" : show(V[ref]);
        tr.appendChild(el("td", (odd ? "odd" : "") + (ref === 0 ? " absent" : ""), (odd ? "≠ " : "") + text));
      });
    }
    box.dataset.rows = String(end);
    var more = box.querySelector("button.more");
    if (more) more.remove();
    if (end < group.hosts.length) {
      more = box.appendChild(el("button", "more", "Show " + Math.min(SPREAD_ROWS, group.hosts.length - end) + " more hosts"));
      more.type = "button";
      more.addEventListener("click", function () { appendSpreadRows(box, group, modes); });
    }
  }

  /* ---- navigation: #host-NAME ---------------------------------------------------------- */

  function hostFromHash() {
    var raw = location.hash.slice(1);
    if (raw.indexOf("host-") !== 0) return null;
    var decoded = raw;
    try { decoded = decodeURIComponent(raw); } catch (e) { /* keep it raw */ }
    return byId.get(raw) || byId.get(decoded) || byName.get(decoded.slice(5)) || null;
  }

  function openHash() {
    var host = hostFromHash();
    if (!host) return;
    var at = shown.indexOf(host);
    if (at < 0) {
      Object.assign(state, DEFAULTS);
      syncControls();
      refresh();
      at = shown.indexOf(host);
      $("fleet-count").textContent += " Filters cleared to show " + host.name + ".";
    }
    state.page = Math.floor(at / state.size);
    refresh();
    var section = document.getElementById(host.id);
    document.querySelectorAll(".host.current").forEach(function (s) { s.classList.remove("current"); });
    section.classList.add("current");
    section.scrollIntoView();
    section.focus({ preventScroll: true });
  }

  /* ---- controls ------------------------------------------------------------------------ */

  function fillSelects() {
    var groups = new Set();
    hosts.forEach(function (h) { h.groups.forEach(function (g) { groups.add(g); }); });
    Array.from(groups).sort(collator.compare).forEach(function (g) {
      $("f-group").appendChild(el("option", null, g)).value = g;
    });
    data.clusters.forEach(function (c) {
      $("f-cluster").appendChild(el("option", null, "cluster " + c[0] + " (" + c[1] + " hosts)")).value = String(c[0]);
    });
  }

  function syncControls() {
    $("f-status").value = state.status;
    $("f-group").value = state.group;
    $("f-cluster").value = state.cluster;
    $("f-text").value = state.text;
  }

  function onFilter(key, id, event) {
    $(id).addEventListener(event, function () {
      state[key] = $(id).value;
      state.page = 0;
      refresh();
    });
  }

  function bindControls() {
    onFilter("status", "f-status", "change");
    onFilter("group", "f-group", "change");
    onFilter("cluster", "f-cluster", "change");
    onFilter("text", "f-text", "input");
    $("f-reset").addEventListener("click", function () {
      Object.assign(state, DEFAULTS, { page: 0 });
      syncControls();
      refresh();
    });
    $("page-prev").addEventListener("click", function () { state.page -= 1; refresh(); });
    $("page-next").addEventListener("click", function () { state.page += 1; refresh(); });
    $("page-size").addEventListener("change", function () {
      state.size = Number($("page-size").value);
      state.page = 0;
      refresh();
    });
    document.querySelectorAll("#fleet-table thead button").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(button.dataset.sort); });
    });
    document.querySelectorAll("button.show-cluster").forEach(function (button) {
      button.addEventListener("click", function () { showOnly({ cluster: button.dataset.cluster }); });
    });
    document.querySelectorAll("button.show-status").forEach(function (button) {
      button.addEventListener("click", function () { showOnly({ status: button.dataset.status }); });
    });
    document.querySelectorAll("details.spread").forEach(function (details) {
      details.addEventListener("toggle", function () { if (details.open) renderSpread(details); });
    });
    window.addEventListener("hashchange", openHash);
    window.addEventListener("beforeprint", function () { printAll(true); });
    window.addEventListener("afterprint", function () { printAll(false); });
    // Emulated print media (and some print previews) fire no beforeprint: follow the media query.
    var print = window.matchMedia("print");
    if (print.addEventListener) print.addEventListener("change", function (e) { printAll(e.matches); });
  }

  var printing = false;
  var openedForPrint = [];

  function printAll(on) {
    if (on === printing) return;
    printing = on;
    if (on) {
      openedForPrint = Array.from(document.querySelectorAll("details:not([open])"));
      openedForPrint.forEach(function (d) { d.open = true; });
    } else {
      openedForPrint.forEach(function (d) { d.open = false; });
      openedForPrint = [];
    }
    var page = state.page, size = state.size;
    if (on) { state.page = 0; state.size = Math.max(1, hosts.length); }
    refresh();
    state.page = page;
    state.size = size;
  }

  /* The page is written once and kept twice: as REPORT_DIR/report.html (links to runs/ID/...)
     and as runs/ID/report.html, where the same runs are siblings. */
  function fixRunLinks() {
    if (!/\/runs\/[^\/]+\/report\.html$/.test(window.location.pathname)) return;
    document.querySelectorAll("a.run-link").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href && href.indexOf("runs/") === 0) a.setAttribute("href", "../" + href.slice(5));
    });
  }

  function sortBy(key) {
    state.dir = state.sort === key ? -state.dir : 1;
    state.sort = key;
    refresh();
  }

  function showOnly(filter) {
    Object.assign(state, DEFAULTS, filter, { page: 0 });
    syncControls();
    refresh();
    $("fleet").scrollIntoView();
    $("fleet").focus({ preventScroll: true });
  }

  fixRunLinks();
  fillSelects();
  bindControls();
  refresh();
  openHash();
  document.body.setAttribute("data-ready", String(Math.round(performance.now())));
})();
