// The dashboard refreshes itself from /admin/dashboard.json every few seconds.
// Everything customers or staff typed is set as text (textContent), never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#1f4e79", "#b45309", "#2f7d32", "#8e24aa", "#c62828", "#555"];
  var EVERY_MS = 3000;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function fill(id, nodes) {
    var box = document.getElementById(id);
    if (!box) { return; }
    while (box.firstChild) { box.removeChild(box.firstChild); }
    nodes.forEach(function (n) { box.appendChild(n); });
  }
  function hhmm(iso) { return iso ? iso.substring(11, 16) + " UTC" : "—"; }
  function none() { return el("p", root.dataset.none, "muted"); }

  function told(items) {
    if (!items.length) { return [none()]; }
    return items.map(function (s) {
      var p = el("p", null, "told");
      p.lang = s.lang;
      p.appendChild(el("strong", s.lang));
      p.appendChild(document.createTextNode(" " + s.text + " "));
      if (s.as_of) { p.appendChild(el("span", "(" + root.dataset.asOf + " " + hhmm(s.as_of) + ")", "muted")); }
      return p;
    });
  }
  function incident(i) {
    if (!i) { return [none()]; }
    var p = el("p");
    p.appendChild(el("strong", i.name));
    p.appendChild(document.createTextNode(" (" + i.status + ")"));
    return [p, el("p", root.dataset.updated + " " + hhmm(i.updated_at), "muted")];
  }
  function subscribers(s) {
    if (!s || !Object.keys(s).length) { return [none()]; }
    var ul = el("ul");
    Object.keys(s).forEach(function (k) { ul.appendChild(el("li", k + ": " + s[k])); });
    return [ul];
  }
  function broadcast(b) {
    if (!b) { return [none()]; }
    var bar = el("progress");
    bar.max = b.recipients || 1;
    bar.value = b.sent;
    var d = root.dataset;
    return [el("p", b.title), el("p", d.sent + " " + b.sent + "/" + b.recipients + " · " + d.failed + " " + b.failed + " · " + d.waiting + " " + b.waiting), bar];
  }
  function groups(items) {
    if (!items.length) { return [el("li", root.dataset.none, "muted")]; }
    return items.map(function (g) {
      var li = el("li");
      li.appendChild(el("strong", g.count + "×"));
      li.appendChild(document.createTextNode(" " + (g.examples[0] || "") + " "));
      li.appendChild(el("span", g.lang, "muted"));
      return li;
    });
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function chart(rates) {
    var W = 720, H = 200, L = 34, B = 20, n = rates.minutes;
    var start = Date.parse(rates.since);
    var max = 1;
    rates.series.forEach(function (s) { s.points.forEach(function (p) { max = Math.max(max, p[1]); }); });
    var box = svg("svg", {viewBox: "0 0 " + W + " " + H, "aria-hidden": "true"});
    box.appendChild(svg("line", {x1: L, y1: H - B, x2: W, y2: H - B, "class": "axis"}));
    box.appendChild(svg("line", {x1: L, y1: 4, x2: L, y2: H - B, "class": "axis"}));
    var top = svg("text", {x: 2, y: 14}); top.textContent = String(max); box.appendChild(top);
    var zero = svg("text", {x: 2, y: H - B}); zero.textContent = "0"; box.appendChild(zero);
    [0, 1, 2, 3].forEach(function (i) {
      var m = Math.round(i * (n - 1) / 3);
      var t = svg("text", {x: L + m * (W - L) / Math.max(n - 1, 1) - 14, y: H - 4});
      t.textContent = new Date(start + m * 60000).toISOString().substring(11, 16);
      box.appendChild(t);
    });
    var legend = el("ul", null, "legend");
    rates.series.forEach(function (s, i) {
      var counts = {};
      s.points.forEach(function (p) { counts[p[0]] = p[1]; });
      var pts = [];
      for (var m = 0; m < n; m++) {
        var key = new Date(start + m * 60000).toISOString().replace(".000Z", "+00:00");
        var v = counts[key] || 0;
        pts.push((L + m * (W - L) / Math.max(n - 1, 1)).toFixed(1) + "," + (H - B - v * (H - B - 6) / max).toFixed(1));
      }
      box.appendChild(svg("polyline", {points: pts.join(" "), fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 2}));
      var li = el("li");
      var swatch = el("span");
      swatch.style.background = COLORS[i % COLORS.length];
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(s.topic + ": " + s.total));
      legend.appendChild(li);
    });
    return rates.series.length ? [box, legend] : [box, none()];
  }

  function show(d) {
    fill("told", told(d.told));
    fill("incident", incident(d.incident));
    fill("subscribers", subscribers(d.subscribers));
    fill("broadcast", broadcast(d.broadcast));
    fill("groups", groups(d.groups));
    fill("rates", chart(d.rates));
    var open = document.getElementById("open-groups");
    if (open) { open.textContent = String(d.open_groups); }
    var stamp = document.getElementById("refreshed");
    if (stamp) { stamp.textContent = hhmm(d.now); }
    root.dataset.loaded = String(Number(root.dataset.loaded || "0") + 1);
  }
  function tick() {
    fetch(root.dataset.source, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { show(d); } })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .then(function () { window.setTimeout(tick, EVERY_MS); });
  }
  tick();
}());
