// The admin Inbox: polls /admin/inbox/data and renders it with text nodes only
// (customer text is never parsed as HTML); actions post url-encoded forms with
// the session's CSRF token.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) return;
  var W = JSON.parse(root.getAttribute("data-words"));
  var csrf = root.getAttribute("data-csrf"), me = root.getAttribute("data-agent");
  var ui = root.getAttribute("data-ui") || "en";
  var selected = null, data = null, drafts = {}, busy = false;
  var errorBox = document.getElementById("inbox-error");

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function minutes(s) {
    if (s === null || s === undefined) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function since(iso) { return (Date.parse(data.now) - Date.parse(iso)) / 1000; }
  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString(ui, { hour: "2-digit", minute: "2-digit" });
  }
  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }
  function post(path, fields) {
    var body = new URLSearchParams(fields || {});
    body.set("csrf", csrf);
    return fetch(path, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
        return j;
      });
    });
  }
  function act(id, action, fields) {
    if (busy) return Promise.resolve();
    busy = true;
    return post("/admin/inbox/" + id + "/" + action, fields)
      .then(function () { showError(""); })
      .catch(function (e) { showError(e.message); })
      .then(function () { busy = false; return refresh(); });
  }

  function item(h, list) {
    var li = el("li");
    var b = el("button", "pick" + (selected === h.id ? " on" : ""));
    b.type = "button";
    b.setAttribute("aria-pressed", selected === h.id ? "true" : "false");
    b.appendChild(el("span", "chan", h.channel));
    b.appendChild(el("span", "lang", h.lang));
    var last = h.transcript.filter(function (m) { return m.role === "user"; }).pop();
    b.appendChild(el("span", "snippet", last ? last.text.slice(0, 60) : h.conversation_id));
    var when = h.state === "waiting" ? W.waited + " " + minutes(since(h.opened_at))
                                     : W.claimed_by_label + " " + h.claimed_by;
    b.appendChild(el("span", "when", when));
    b.addEventListener("click", function () { selected = h.id; render(); });
    li.appendChild(b);
    list.appendChild(li);
  }

  function renderLists() {
    var lists = { waiting: "list-waiting", mine: "list-mine", others: "list-others" };
    Object.keys(lists).forEach(function (k) { document.getElementById(lists[k]).textContent = ""; });
    var waiting = document.getElementById("list-waiting");
    if (!data.waiting.length) waiting.appendChild(el("li", "muted", W.inbox_empty));
    data.waiting.forEach(function (h) { item(h, waiting); });
    data.active.forEach(function (h) {
      item(h, document.getElementById(h.claimed_by === me ? "list-mine" : "list-others"));
    });
  }

  function find(id) {
    return data.waiting.concat(data.active).filter(function (h) { return h.id === id; })[0];
  }

  function renderConversation() {
    var box = document.getElementById("conversation");
    var h = selected === null ? null : find(selected);
    var reply = box.querySelector("textarea");
    if (reply && selected !== null) drafts[selected] = reply.value;
    var focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.id : null;
    box.textContent = "";
    if (!h) { box.appendChild(el("p", "muted", W.inbox_pick)); return; }
    var head = el("header", "conv-head");
    head.appendChild(el("strong", null, h.channel + " · " + h.lang + " · " + h.conversation_id));
    var tools = el("div", "tools");
    function tool(label, action, cls) {
      var b = el("button", cls, label); b.type = "button"; b.id = "do-" + action;
      b.addEventListener("click", function () { act(h.id, action); });
      tools.appendChild(b);
    }
    if (h.state === "waiting") tool(W.claim, "claim", "primary");
    if (h.state === "active" && h.claimed_by === me) { tool(W.release, "release"); tool(W.close_handoff, "close"); }
    head.appendChild(tools);
    box.appendChild(head);
    var sub = h.subscription;
    box.appendChild(el("p", "sub muted", !sub ? W.not_subscribed :
      sub.components.length ? W.subscribed_to + ": " + sub.components.join(", ") : W.subscribed_all));
    var touched = h.touched || { faq: [], incidents: [] };
    if (touched.faq.length || touched.incidents.length) {
      var tb = el("section", "touched");
      tb.setAttribute("aria-label", W.touched);
      tb.appendChild(el("h3", null, W.touched));
      var tl = el("ul", "touched-list");
      touched.faq.forEach(function (f) {
        var how = f.how === "answered" ? W.faq_answered : W.faq_offered;
        var v = f.version == null ? "" : " · " + W.version + " " + f.version;
        tl.appendChild(el("li", "faq", how + ": " + f.question + " (" + f.id + v + ")"));
      });
      touched.incidents.forEach(function (i) {
        var what = i.current ? i.name + " · " + i.status : i.id + " · " + W.incident_not_current;
        tl.appendChild(el("li", "incident", W.incident_asked + ": " + what));
      });
      tb.appendChild(tl);
      box.appendChild(tb);
    }
    var log = el("ol", "transcript");
    log.setAttribute("aria-label", h.conversation_id);
    h.transcript.forEach(function (m) {
      var li = el("li", "m " + m.role);
      var label = m.role === "user" ? W.role_user : m.role === "agent" ? W.role_agent + (m.author ? " " + m.author : "") : W.role_bot;
      li.appendChild(el("span", "who", label + " · " + clock(m.at)));
      li.appendChild(el("p", "text", m.text));
      if (m.delivery === "failed") li.appendChild(el("p", "failed", W.not_delivered + ": " + (m.error || "")));
      log.appendChild(li);
    });
    box.appendChild(log);
    log.scrollTop = log.scrollHeight;
    if (h.state === "active" && h.claimed_by === me) {
      var form = el("form", "reply");
      var ta = el("textarea"); ta.id = "reply-text"; ta.rows = 3; ta.maxLength = 4000;
      ta.placeholder = W.reply_placeholder; ta.setAttribute("aria-label", W.reply_placeholder);
      ta.value = drafts[h.id] || "";
      var send = el("button", "primary", W.send); send.type = "submit"; send.id = "do-send";
      form.appendChild(ta); form.appendChild(send);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var text = ta.value.trim();
        if (!text) return;
        drafts[h.id] = "";
        ta.value = "";  // sent: the transcript shows it (or why it was not delivered)
        act(h.id, "reply", { text: text });
      });
      ta.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
      });
      box.appendChild(form);
      box.appendChild(answersTool(h, ta));
    }
    if (focused) { var f = document.getElementById(focused); if (f) f.focus(); }
  }

  var lastAnswers = { q: "", body: null };
  function answersTool(h, ta) {
    var wrap = el("details", "answers");
    wrap.open = !!lastAnswers.body;
    wrap.appendChild(el("summary", null, W.approved_answers));
    var form = el("form", "search");
    var q = el("input"); q.type = "search"; q.id = "answer-q"; q.value = lastAnswers.q;
    q.setAttribute("aria-label", W.approved_answers);
    var go = el("button", null, W.search); go.type = "submit";
    form.appendChild(q); form.appendChild(go);
    var results = el("div", "results");
    function show(body) {
      results.textContent = "";
      (body.faq || []).forEach(function (a) {
        var card = el("div", "card");
        card.appendChild(el("strong", null, a.title));
        var meta = a.id + (a.version ? " · " + W.version + " " + a.version : "") +
          (a.updated_at ? " · " + W.changed + " " + new Date(a.updated_at).toLocaleString(ui) : "");
        card.appendChild(el("div", "muted", meta));
        card.appendChild(el("p", null, a.answer));
        var ins = el("button", null, W.insert); ins.type = "button";
        ins.addEventListener("click", function () { ta.value = (ta.value ? ta.value + "\n\n" : "") + a.answer; ta.focus(); });
        card.appendChild(ins);
        results.appendChild(card);
      });
      if (body.status) {
        var card = el("div", "card");
        card.appendChild(el("strong", null, W.status_answer));
        if (body.status.as_of) card.appendChild(el("div", "muted", new Date(body.status.as_of).toLocaleString(ui)));
        card.appendChild(el("p", null, body.status.text));
        var ins = el("button", null, W.insert); ins.type = "button";
        ins.addEventListener("click", function () { ta.value = (ta.value ? ta.value + "\n\n" : "") + body.status.text; ta.focus(); });
        card.appendChild(ins);
        results.appendChild(card);
      }
    }
    if (lastAnswers.body) show(lastAnswers.body);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var params = new URLSearchParams({ q: q.value, lang: h.lang });
      fetch("/admin/inbox/answers?" + params, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) { lastAnswers = { q: q.value, body: body }; show(body); });
    });
    wrap.appendChild(form); wrap.appendChild(results);
    return wrap;
  }

  function renderFigures() {
    var f = data.figures;
    document.getElementById("fig-waiting").textContent = f.waiting;
    document.getElementById("fig-longest").textContent = minutes(f.longest_wait_s);
    document.getElementById("fig-handled").textContent = f.handled_today;
    document.getElementById("fig-online").textContent = f.agents_online;
  }

  function render() { renderFigures(); renderLists(); renderConversation(); }

  var shownKey = "";
  function refresh() {
    return fetch("/admin/inbox/data", { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 303 || r.redirected) { location.href = "/admin/login"; throw new Error("signed out"); }
        return r.json();
      })
      .then(function (d) {
        data = d;
        // re-render the conversation only when something in it changed (keeps typing intact)
        var key = JSON.stringify([d.waiting, d.active, selected]);
        renderFigures();
        if (key !== shownKey) { shownKey = key; renderLists(); renderConversation(); }
      })
      .catch(function (e) { if (e.message !== "signed out") showError(e.message); });
  }
  refresh();
  setInterval(function () { if (!busy) refresh(); }, 2000);
})();
