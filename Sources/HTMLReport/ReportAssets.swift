/// The page's style and script, inline so that the report opens from disk or as a CI
/// artifact with no network. The colours are the diagram's.
enum ReportAssets {
  /// Mark, colour, meaning: the heat map's legend.
  static let legend: [(String, String, String)] = [
    ("v", "#2e7d32", "reached, as expected"), ("+", "#8fd694", "reached (held to the model)"),
    (".", "#8a8f98", "blocked, as expected"), ("-", "#d9dde3", "not reached (held to the model)"),
    ("x", "#d0021b", "mismatch"), ("!", "#f5a623", "surprise: holds, the model disagrees"), (" ", "#ffffff", "self, or not probed"),
  ]

  static let css = #"""
    :root { --fail: #b00016; --pass: #1b5e20; --ink: #1d2733; --muted: #5a6b7c; --line: #d5dbe3; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); margin: 0 1.5rem 2rem; }
    h1 { font-size: 1.4rem; margin: 1rem 0 .2rem; } h2 { font-size: 1.05rem; margin: .6rem 0; }
    .name { font-family: ui-monospace, Menlo, monospace; }
    #summary { font-weight: 600; margin: .2rem 0; } #summary.pass { color: var(--pass); } #summary.fail { color: var(--fail); }
    .meta, .hint, #list-count, #level { color: var(--muted); margin: .2rem 0; }
    #diagram .svg { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; padding: .4rem; }
    #diagram svg { max-width: 100%; height: auto; }
    nav { display: flex; gap: .3rem; margin: 1rem 0 .4rem; flex-wrap: wrap; }
    nav button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: 6px 6px 0 0; background: #f3f6fa; cursor: pointer; }
    nav button[aria-selected="true"] { background: #fff; border-bottom-color: #fff; font-weight: 600; }
    nav button.fail { color: var(--fail); }
    button:focus-visible, canvas:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #1f6feb; outline-offset: 2px; }
    main { display: grid; grid-template-columns: minmax(0, auto) minmax(16rem, 1fr); gap: 1.5rem; align-items: start; }
    #lists { grid-column: 1 / -1; }
    .heat { position: relative; display: inline-grid; grid-template-columns: auto auto; align-items: end; }
    #rows, #cols { border: 0; cursor: default; }
    #changes { font-size: .9em; max-height: 12em; overflow: auto; }
    canvas { image-rendering: pixelated; border: 1px solid var(--line); cursor: crosshair; max-width: 100%; }
    #tip { position: absolute; pointer-events: none; background: #1d2733; color: #fff; padding: .2rem .45rem; border-radius: 4px; font-size: 12px; white-space: nowrap; }
    .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .5rem 0; }
    .sw { display: inline-block; width: .9rem; height: .9rem; border: 1px solid #8a8f98; vertical-align: -2px; margin-right: .3rem; }
    aside { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; position: sticky; top: .5rem; }
    aside table, #list { border-collapse: collapse; width: 100%; }
    aside td, aside th, #list td, #list th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    #list tr.mismatch td:first-child { color: var(--fail); font-weight: 600; } #list tr.surprise td:first-child { color: #8a5300; font-weight: 600; }
    pre { white-space: pre-wrap; font-size: 12px; margin: .2rem 0; }
    form label { margin-right: .6rem; }
    @media print { nav, #filters, .hint { display: none; } main { display: block; } aside { position: static; } #diagram { break-after: page; } }
    """#

  static let script = #"""
    (function () {
      "use strict";
      const D = JSON.parse(document.getElementById("data").textContent);
      const N = D.endpoints.length;
      const COLOR = {}, MEANING = {};
      for (const [m, c, t] of D.legend) { COLOR[m] = c; MEANING[m] = t; }
      const canvas = document.getElementById("heat"), ctx = canvas.getContext("2d"), tip = document.getElementById("tip");
      const rowsCanvas = document.getElementById("rows"), colsCanvas = document.getElementById("cols");
      const details = document.getElementById("details");
      const AGG = N > 150 && D.groups.length > 0;
      let tab = 0, level = null, focus = [0, 0], layout = null;

      function rgb(hex) { return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]; }
      const RGB = {}; for (const m in COLOR) RGB[m] = rgb(COLOR[m]);

      // What the canvas shows now: groups (blocks), or endpoints: all of them, or the rows and
      // columns of one block (level = [source group, target group]).
      function view() {
        if (AGG && level === null) { const g = D.groups.map((_, i) => i); return { groups: true, rows: g, cols: g }; }
        if (level === null) { const all = [...Array(N).keys()]; return { groups: false, rows: all, cols: all }; }
        return { groups: false, rows: D.groups[level[0]].members, cols: D.groups[level[1]].members };
      }

      function blockStats(gi, gj, marks) {
        let probed = 0, reached = 0, bad = 0;
        for (const s of D.groups[gi].members) for (const t of D.groups[gj].members) {
          const m = marks[s * N + t];
          if (m === " ") continue;
          probed++; if (m === "v" || m === "+") reached++; if (m === "x") bad++;
        }
        return { probed, reached, bad };
      }

      function draw() {
        const v = view(), marks = D.tabs[tab].marks, h = v.rows.length, w = v.cols.length, n = Math.max(h, w);
        const cell = Math.max(1, Math.min(28, Math.floor(760 / Math.max(1, n))));
        canvas.width = w * cell; canvas.height = h * cell;
        canvas.style.width = Math.max(w * cell, 160) + "px";
        layout = { v, cell, h, w };
        if (v.groups) {
          for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
            const b = blockStats(i, j, marks);
            const f = b.probed ? b.reached / b.probed : 0;
            ctx.fillStyle = b.probed === 0 ? "#ffffff" : b.bad ? "#d0021b" : "rgb(" + Math.round(217 - 171 * f) + "," + Math.round(221 - 96 * f) + "," + Math.round(227 - 177 * f) + ")";
            ctx.fillRect(j * cell, i * cell, cell, cell);
          }
        } else if (cell === 1) {
          const img = ctx.createImageData(w, h), px = img.data;
          for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
            const c = RGB[marks[v.rows[i] * N + v.cols[j]]] || RGB[" "], k = (i * w + j) * 4;
            px[k] = c[0]; px[k + 1] = c[1]; px[k + 2] = c[2]; px[k + 3] = 255;
          }
          ctx.putImageData(img, 0, 0);
        } else {
          for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
            ctx.fillStyle = COLOR[marks[v.rows[i] * N + v.cols[j]]] || "#ffffff";
            ctx.fillRect(j * cell, i * cell, cell, cell);
          }
          if (cell >= 6) {
            ctx.strokeStyle = "#eef1f5"; ctx.lineWidth = 1; ctx.beginPath();
            for (let i = 0; i <= h; i++) { ctx.moveTo(0, i * cell + .5); ctx.lineTo(w * cell, i * cell + .5); }
            for (let j = 0; j <= w; j++) { ctx.moveTo(j * cell + .5, 0); ctx.lineTo(j * cell + .5, h * cell); }
            ctx.stroke();
          }
        }
        // In a scenario's tab, a cell whose outcome differs from the base's is outlined.
        if (tab > 0 && !v.groups && cell >= 4) {
          const base = D.tabs[0].marks; ctx.strokeStyle = "#111827"; ctx.lineWidth = Math.max(1, Math.floor(cell / 8));
          for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
            const k = v.rows[i] * N + v.cols[j];
            if ((base[k] === "v" || base[k] === "+") !== (marks[k] === "v" || marks[k] === "+") && marks[k] !== " ") ctx.strokeRect(j * cell + 1, i * cell + 1, cell - 2, cell - 2);
          }
        }
        axes(v, cell, h, w);
        const lv = document.getElementById("level");
        lv.textContent = v.groups ? "blocks by subnet: reached/probed per block; click a block to see its pairs"
          : level !== null ? D.groups[level[0]].name + " → " + D.groups[level[1]].name + " (press Escape, or click here, to go back to the blocks)" : "rows are sources, columns targets";
        lv.onclick = () => { if (level !== null) { level = null; draw(); } };
      }

      // The names on the axes, when a cell is tall enough for a line of text.
      function axes(v, cell, h, w) {
        const names = v.groups ? D.groups.map(g => g.name) : D.endpoints;
        const show = cell >= 9, font = Math.min(13, cell - 2) + "px system-ui, sans-serif";
        const measure = rowsCanvas.getContext("2d"); measure.font = font;
        const widest = show ? Math.min(160, Math.ceil(Math.max(0, ...v.rows.map(r => measure.measureText(names[r]).width)) + 6)) : 0;
        const tallest = show ? Math.min(160, Math.ceil(Math.max(0, ...v.cols.map(c => measure.measureText(names[c]).width)) + 6)) : 0;
        rowsCanvas.width = widest; rowsCanvas.height = h * cell; rowsCanvas.hidden = !show;
        colsCanvas.width = w * cell; colsCanvas.height = tallest; colsCanvas.hidden = !show;
        colsCanvas.previousElementSibling.style.width = widest + "px";
        if (!show) return;
        const r = rowsCanvas.getContext("2d"), c = colsCanvas.getContext("2d");
        for (const x of [r, c]) { x.font = font; x.fillStyle = "#1f2937"; x.textBaseline = "middle"; }
        r.textAlign = "right";
        v.rows.forEach((s, i) => r.fillText(names[s], widest - 3, i * cell + cell / 2));
        c.textAlign = "left";
        v.cols.forEach((t, j) => { c.save(); c.translate(j * cell + cell / 2, tallest - 3); c.rotate(-Math.PI / 2); c.fillText(names[t], 0, 0); c.restore(); });
      }

      function at(e) {
        const r = canvas.getBoundingClientRect(), scale = canvas.width / r.width;
        const j = Math.floor((e.clientX - r.left) * scale / layout.cell), i = Math.floor((e.clientY - r.top) * scale / layout.cell);
        return i >= 0 && j >= 0 && i < layout.h && j < layout.w ? [i, j] : null;
      }

      function label(i, j) {
        const v = layout.v, marks = D.tabs[tab].marks;
        if (v.groups) { const b = blockStats(i, j, marks); return D.groups[i].name + " → " + D.groups[j].name + ": " + b.reached + "/" + b.probed + " reached" + (b.bad ? ", " + b.bad + " mismatched" : ""); }
        const s = v.rows[i], t = v.cols[j];
        return D.endpoints[s] + " → " + D.endpoints[t] + ": " + MEANING[marks[s * N + t]];
      }

      canvas.addEventListener("mousemove", e => {
        const p = at(e); if (!p) { tip.hidden = true; return; }
        tip.textContent = label(p[0], p[1]); tip.hidden = false;
        tip.style.left = (canvas.offsetLeft + e.offsetX + 14) + "px"; tip.style.top = (canvas.offsetTop + e.offsetY + 10) + "px";
      });
      canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
      canvas.addEventListener("click", e => { const p = at(e); if (p) select(p[0], p[1]); });
      canvas.addEventListener("keydown", e => {
        const k = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
        if (k) { focus = [Math.min(layout.h - 1, Math.max(0, focus[0] + k[0])), Math.min(layout.w - 1, Math.max(0, focus[1] + k[1]))]; tip.hidden = false; tip.textContent = label(focus[0], focus[1]); tip.style.left = (canvas.offsetLeft + focus[1] * layout.cell + 14) + "px"; tip.style.top = (canvas.offsetTop + focus[0] * layout.cell + 10) + "px"; e.preventDefault(); }
        else if (e.key === "Enter") { select(focus[0], focus[1]); }
        else if (e.key === "Escape" && level !== null) { level = null; draw(); }
      });

      function cellText(tag, text, cls) { const el = document.createElement(tag); el.textContent = text == null ? "—" : String(text); if (cls) el.className = cls; return el; }

      // A cell: its pairs' verdicts, the reason and the predicted path; a block: drill down.
      function select(i, j) {
        focus = [i, j];
        const v = layout.v;
        if (v.groups) { level = [i, j]; focus = [0, 0]; draw(); return; }
        const s = v.rows[i], t = v.cols[j], T = D.tabs[tab];
        details.replaceChildren(cellText("h2", D.endpoints[s] + " → " + D.endpoints[t]));
        details.appendChild(cellText("p", MEANING[T.marks[s * N + t]]));
        const pairs = T.pairs.filter(p => p[0] === s && p[1] === t);
        if (!pairs.length) { details.appendChild(cellText("p", T.listedAll ? "no pair probed" : "not listed here (only mismatches and surprises are, at this size): see the JSON", "hint")); return; }
        for (const p of pairs) {
          const table = document.createElement("table"); table.className = "pair";
          const measured = D.kind === "predict" ? "model" : "measured";
          const rows = [["probe", p[2] + "/" + p[3] + (p[4] ? " " + p[4] : "")], ["declared", p[7]], ["predicted", p[8]], [measured, p[5]], ["holds", p[9] === null ? "no expectation" : p[9] ? "yes" : "no"], ["latency", p[10] === null ? null : p[10] + " ms"], ["line", p[12]], ["why", p[11]]];
          for (const [k, val] of rows) { const tr = document.createElement("tr"); tr.append(cellText("th", k), cellText("td", val)); table.appendChild(tr); }
          details.appendChild(table);
          if (p[13]) { details.appendChild(cellText("h3", "predicted path")); details.appendChild(cellText("pre", p[13])); }
        }
      }

      function kindOf(p) { return p[9] === 0 ? "mismatch" : "surprise"; }
      function renderList() {
        const T = D.tabs[tab], node = document.getElementById("f-node").value.trim().toLowerCase();
        const oc = document.getElementById("f-outcome").value, pr = document.getElementById("f-proto").value, fa = document.getElementById("f-family").value;
        const body = document.querySelector("#list tbody");
        const listed = T.pairs.filter(p => p[9] === 0 || (p[7] !== null && p[9] === 1 && p[8] !== null && (p[8] === "reached") !== (p[5] === "reached")));
        const shown = listed.filter(p => (!node || D.endpoints[p[0]].toLowerCase().includes(node) || D.endpoints[p[1]].toLowerCase().includes(node))
          && (!oc || p[5] === oc) && (!pr || p[2] === pr) && (!fa || p[4] === fa));
        const rows = [];
        for (const p of shown.slice(0, 2000)) {
          const tr = document.createElement("tr"); tr.className = kindOf(p);
          tr.append(cellText("td", kindOf(p)), cellText("td", D.endpoints[p[0]]), cellText("td", D.endpoints[p[1]]), cellText("td", p[2] + "/" + p[3] + (p[4] ? " " + p[4] : "")), cellText("td", p[7]), cellText("td", p[8]), cellText("td", p[5]), cellText("td", p[11]));
          tr.tabIndex = 0; tr.addEventListener("click", () => showPair(p)); tr.addEventListener("keydown", e => { if (e.key === "Enter") showPair(p); });
          rows.push(tr);
        }
        body.replaceChildren(...rows);
        document.getElementById("list-count").textContent = shown.length + " of " + listed.length + " shown" + (shown.length > 2000 ? " (the first 2,000)" : "");
      }
      // Shows pair (s, t): inside its block when the matrix is in blocks.
      function reveal(s, t) {
        if (AGG) {
          const gs = D.groups.findIndex(g => g.members.includes(s)), gt = D.groups.findIndex(g => g.members.includes(t));
          level = gs >= 0 && gt >= 0 ? [gs, gt] : null; draw();
        }
        const v = layout.v, i = v.rows.indexOf(s), j = v.cols.indexOf(t);
        if (i >= 0 && j >= 0) select(i, j);
      }
      function showPair(p) { reveal(p[0], p[1]); }
      for (const id of ["f-node", "f-outcome", "f-proto", "f-family"]) document.getElementById(id).addEventListener("input", renderList);

      function renderTab() {
        const T = D.tabs[tab];
        document.getElementById("matrix-title").textContent = T.title;
        const ts = document.getElementById("tab-summary");
        const held = T.expected ? T.held + "/" + T.expected + " hold" + (T.passed ? " ✓ · " : " · ") : "";
        ts.textContent = held + T.summary + (T.changes.length ? " · changes: " + T.changes.join("; ") : "") + (T.differential ? " · against the base: " + T.differential : "");
        ts.className = T.passed ? "pass" : "fail";
        // A scenario's lost and gained pairs, one per line, as the terminal lists them.
        const ch = document.getElementById("changes");
        const items = [...(T.lost || []).map(x => "lost: " + x), ...(T.gained || []).map(x => "gained: " + x)];
        ch.replaceChildren(...items.map(x => cellText("li", x))); ch.hidden = items.length === 0;
        // The diagram of this tab's network, when the page has it.
        const diagrams = document.querySelectorAll("#diagram .svg");
        const own = [...diagrams].some(d => d.dataset.tab === T.name);
        diagrams.forEach(d => { d.hidden = d.dataset.tab !== (own ? T.name : "base"); });
        level = null; draw(); renderList();
        details.replaceChildren(cellText("h2", "Pair"), cellText("p", "Click a cell (or move with the arrow keys and press Enter) to see its pair.", "hint"));
      }
      const nav = document.getElementById("tabs");
      D.tabs.forEach((T, k) => {
        const b = document.createElement("button"); b.type = "button"; b.setAttribute("role", "tab"); b.textContent = T.title;
        if (!T.passed) b.className = "fail";
        b.addEventListener("click", () => { tab = k; for (const x of nav.children) x.setAttribute("aria-selected", "false"); b.setAttribute("aria-selected", "true"); renderTab(); });
        b.setAttribute("aria-selected", k === 0 ? "true" : "false");
        nav.appendChild(b);
      });
      if (D.tabs.length < 2) nav.hidden = true;
      renderTab();
      // #pair=SOURCE,TARGET[,TAB] opens that pair (for links). #click=SOURCE,TARGET clicks its
      // cell with a real mouse event at the cell's place on the page (for tests in a browser).
      const m = /^#(pair|click)=([^,]*),([^,]*)(?:,(.*))?$/.exec(decodeURIComponent(location.hash));
      if (m) {
        if (m[4]) { const k = D.tabs.findIndex(T => T.name === m[4]); if (k >= 0) nav.children[k].click(); }
        const s = D.endpoints.indexOf(m[2]), t = D.endpoints.indexOf(m[3]);
        if (s >= 0 && t >= 0 && m[1] === "pair") reveal(s, t);
        if (s >= 0 && t >= 0 && m[1] === "click" && !layout.v.groups) {
          const r = canvas.getBoundingClientRect(), scale = r.width / canvas.width;
          const x = r.left + (layout.v.cols.indexOf(t) + .5) * layout.cell * scale, y = r.top + (layout.v.rows.indexOf(s) + .5) * layout.cell * scale;
          canvas.dispatchEvent(new MouseEvent("click", { clientX: x, clientY: y, bubbles: true }));
        }
      }
      document.body.dataset.ready = String(Math.round(performance.now()));
    })();
    """#
}
