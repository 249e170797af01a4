/*! Faro chat widget. Embed with one tag:
 *  <script src="https://faro.example/static/widget.js" data-server="https://faro.example"
 *          data-lang="es" data-title="Northwind Bank" defer></script>
 * Plain JS, no dependencies. All bot and user text is rendered with DOM text
 * nodes (a small markdown subset: **bold**, *italics*, http(s) links, line
 * breaks); raw HTML is never interpreted. */
(function () {
  "use strict";
  if (window.FaroWidget) return;
  var script = document.currentScript || document.querySelector("script[src*='widget.js']");
  var data = (script && script.dataset) || {};
  var server = (data.server || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var lang = pickLang(data.lang || document.documentElement.lang || navigator.language);
  var T = {
    en: {
      open: "Open chat", close: "Close chat", title: "Help", send: "Send",
      placeholder: "Type your question…", label: "Your question", typing: "The assistant is typing…",
      unread: function (n) { return n === 1 ? "1 unread message" : n + " unread messages"; },
      incident: "Service incident", more: "More", less: "Less", you: "You", bot: "Assistant",
      online: "Online", offline: "Reconnecting…", tooFast: "You are sending messages too fast. Please wait {s} s.",
      failed: "The assistant can't be reached right now. Please try again.", welcome: "Hi! Ask me about our services. You can write in English or Spanish.",
      log: "Conversation", update: "Update", agent: "Our team", byEmail: "Or get updates by email or SMS",
      subHow: "How should we tell you?", subEmail: "Email", subSms: "SMS", emailLabel: "Your email address",
      phoneLabel: "Your mobile number, with country code", subParts: "Only for some services (optional)",
      subscribe: "Subscribe", sentEmail: "Almost done: open the link we just emailed you to confirm.",
      sentSms: "We have texted you a code. Enter it here.", codeLabel: "The 6-digit code we texted you",
      confirm: "Confirm", confirmedSms: "Done: you will get service updates by SMS. Reply STOP at any time to stop them.",
      subOff: "Email and SMS updates are not available at the moment.", subPage: "Open the subscribe page",
      subTitle: "Updates by email or SMS", newCode: "Change the number or get a new code",
      held: "Sent to our team: a person will answer here."
    },
    es: {
      open: "Abrir chat", close: "Cerrar chat", title: "Ayuda", send: "Enviar",
      placeholder: "Escribe tu pregunta…", label: "Tu pregunta", typing: "El asistente está escribiendo…",
      unread: function (n) { return n === 1 ? "1 mensaje sin leer" : n + " mensajes sin leer"; },
      incident: "Incidencia en el servicio", more: "Más", less: "Menos", you: "Tú", bot: "Asistente",
      online: "En línea", offline: "Reconectando…", tooFast: "Estás enviando mensajes demasiado rápido. Espera {s} s.",
      failed: "Ahora mismo no podemos contactar con el asistente. Inténtalo de nuevo.", welcome: "¡Hola! Pregúntame por nuestros servicios. Puedes escribir en español o en inglés.",
      log: "Conversación", update: "Aviso", agent: "Nuestro equipo", byEmail: "O recibe los avisos por correo o SMS",
      subHow: "¿Cómo quieres que te avisemos?", subEmail: "Correo", subSms: "SMS", emailLabel: "Tu correo electrónico",
      phoneLabel: "Tu número de móvil, con el prefijo del país", subParts: "Solo de algunos servicios (opcional)",
      subscribe: "Suscribirme", sentEmail: "Casi listo: abre el enlace que te acabamos de enviar por correo para confirmarlo.",
      sentSms: "Te hemos enviado un código por SMS. Introdúcelo aquí.", codeLabel: "El código de 6 cifras que te hemos enviado",
      confirm: "Confirmar", confirmedSms: "Listo: recibirás los avisos del servicio por SMS. Responde BAJA cuando quieras para dejar de recibirlos.",
      subOff: "Los avisos por correo y SMS no están disponibles en este momento.", subPage: "Abrir la página de suscripción",
      subTitle: "Avisos por correo o SMS", newCode: "Cambiar el número o pedir otro código",
      held: "Enviado a nuestro equipo: una persona te responderá aquí."
    }
  }[lang];
  var KEY = "faro.session:" + server, OPEN_KEY = "faro.open:" + server;
  var token = store("get", KEY), seen = {}, lastId = 0, unread = 0, isOpen = false;
  var queue = Promise.resolve(), source = null, retryMs = 1000, timeFmt = null;
  try { timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }); } catch (e) { timeFmt = null; }

  function pickLang(value) { return /^es\b/i.test(String(value || "")) ? "es" : "en"; }
  function store(op, key, value) {
    try {
      if (op === "get") return localStorage.getItem(key);
      if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { return null; }
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  // --- markdown subset, built as DOM nodes ---------------------------------
  var TOKEN = /\*\*([^*\n]+)\*\*|\*([^*\n]+)\*|_([^_\n]+)_|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()"']+[^\s<>()"'.,;:!?])|\n/g;
  function safeUrl(href) {
    try {
      var url = new URL(href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }
  function link(text, href) {
    var url = safeUrl(href);
    if (!url) return document.createTextNode(text);
    var a = el("a", null, text);
    a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer nofollow";
    return a;
  }
  function markdown(parent, text) {
    var last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) parent.appendChild(el("strong", null, m[1]));
      else if (m[2] || m[3]) parent.appendChild(el("em", null, m[2] || m[3]));
      else if (m[4]) parent.appendChild(link(m[4], m[5]));
      else if (m[6]) parent.appendChild(link(m[6], m[6]));
      else parent.appendChild(document.createElement("br"));
      last = TOKEN.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // --- the DOM, inside a shadow root so the page's CSS cannot break it -----
  var host = el("div"); host.id = "faro-widget"; host.hidden = true;
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link"); css.rel = "stylesheet"; css.href = server + "/static/widget.css";
  css.onload = css.onerror = function () { host.hidden = false; };
  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "faro-panel");
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-label", T.open);
  launcher.appendChild(el("span", "icon")).setAttribute("aria-hidden", "true");
  var badge = launcher.appendChild(el("span", "badge")); badge.hidden = true;
  var panel = el("section", "panel"); panel.id = "faro-panel"; panel.hidden = true;
  panel.setAttribute("role", "dialog"); panel.setAttribute("aria-labelledby", "faro-title");
  panel.lang = lang;
  var header = panel.appendChild(el("header"));
  var heading = header.appendChild(el("div", "heading"));
  heading.appendChild(el("h2", null, data.title || T.title)).id = "faro-title";
  var state = heading.appendChild(el("span", "state", T.online));
  var closeBtn = header.appendChild(el("button", "close")); closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", T.close); closeBtn.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
  var banner = panel.appendChild(el("div", "banner")); banner.hidden = true;
  banner.setAttribute("role", "status");
  var bannerHead = banner.appendChild(el("strong", null, T.incident));
  var bannerText = banner.appendChild(el("p", "banner-text"));
  var bannerMore = banner.appendChild(el("button", "more", T.more)); bannerMore.type = "button";
  bannerMore.setAttribute("aria-expanded", "false");
  var log = panel.appendChild(el("div", "log"));
  log.setAttribute("role", "log"); log.setAttribute("aria-label", T.log); log.tabIndex = 0;
  var typing = panel.appendChild(el("div", "typing")); typing.hidden = true;
  typing.setAttribute("role", "status");
  for (var i = 0; i < 3; i++) typing.appendChild(el("span", "dot")).setAttribute("aria-hidden", "true");
  typing.appendChild(el("span", "sr", T.typing));
  var form = panel.appendChild(el("form"));
  var label = form.appendChild(el("label", "sr", T.label)); label.htmlFor = "faro-input";
  var input = form.appendChild(el("input")); input.id = "faro-input";
  input.maxLength = 1000; input.placeholder = T.placeholder; input.autocomplete = "off";
  var sendBtn = form.appendChild(el("button", "send", T.send)); sendBtn.type = "submit";
  root.appendChild(css); root.appendChild(panel); root.appendChild(launcher);

  // --- messages --------------------------------------------------------------
  function time(at) {
    var node = el("time", "at"), date = at ? new Date(at) : new Date();
    node.dateTime = date.toISOString();
    node.title = date.toLocaleString(lang);
    node.textContent = timeFmt ? timeFmt.format(date) : date.toISOString().slice(11, 16);
    return node;
  }
  function disableChoices() {
    var old = log.querySelectorAll(".choices button");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }
  function add(m, opts) {
    if (m.id) { if (seen[m.id]) return null; seen[m.id] = true; lastId = Math.max(lastId, m.id); }
    var role = m.role || "bot", row = el("div", "msg " + role);
    if (role === "push") row.appendChild(el("span", "tag", T.update));
    if (role === "agent") row.appendChild(el("span", "tag agent", T.agent));
    row.appendChild(el("span", "sr", (role === "user" ? T.you : role === "agent" ? T.agent : T.bot) + ": "));
    var bubble = row.appendChild(el("div", "bubble"));
    markdown(bubble, String(m.text || ""));
    row.appendChild(time(m.at));
    if (role === "user") disableChoices();
    if (m.buttons && m.buttons.length) {
      disableChoices();
      var box = row.appendChild(el("div", "choices"));
      m.buttons.forEach(function (b) {
        var asked = contactForm(b.payload);
        if (asked) { contactButton(box, String(b.title), asked, !(opts && opts.quiet)); return; }
        var btn = box.appendChild(el("button", null, String(b.title)));
        btn.type = "button";
        btn.addEventListener("click", function () { send(String(b.title), String(b.payload)); input.focus(); });
      });
      // the subscribe offer: updates by email or SMS too, asked for right here in the chat
      if (m.buttons.some(function (b) { return String(b.payload) === "/subscribe"; })) {
        var alt = box.appendChild(el("button", "alt", T.byEmail));
        alt.type = "button"; alt.hidden = true; // shown once the server says email or SMS is on
        alt.addEventListener("click", function () { alt.disabled = true; openSubscribe(); });
        subOptions().then(function (opts) { alt.hidden = !opts.channels.length; }, function () {});
      }
    }
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
    if (role !== "user" && !(opts && opts.quiet) && (!isOpen || document.hidden)) setUnread(unread + 1);
    return row;
  }
  // --- updates by email or SMS: a small form in the conversation ---------------
  // The bot asks for it with a button payload "/subscribe_contact{...}" ("email me updates",
  // after a chat subscription): {"open": true} opens it at once, "email"/"phone" prefill it.
  function contactForm(payload) {
    var p = String(payload || ""), head = "/subscribe_contact";
    if (p.slice(0, head.length) !== head) return null;
    try {
      var v = p.length > head.length ? JSON.parse(p.slice(head.length)) : {};
      return v && typeof v === "object" ? v : {};
    } catch (e) { return {}; }
  }
  function contactButton(box, title, form, live) {
    var btn = box.appendChild(el("button", "alt", title));
    btn.type = "button"; btn.hidden = true; // shown once the server says email or SMS is on
    function go() { btn.disabled = true; openSubscribe(form); }
    btn.addEventListener("click", go);
    subOptions().then(function (opts) {
      btn.hidden = !opts.channels.length;
      if (live && form.open === true && !btn.hidden && !btn.disabled) go();
    }, function () {});
  }
  var subCount = 0, subCache = null;
  function subOptions() { // which of email and SMS are on, and the status page's components
    if (!subCache) {
      subCache = api("/api/subscribe/options?lang=" + lang).then(function (opts) {
        return {
          channels: (opts.channels || []).filter(function (c) { return c === "email" || c === "sms"; }),
          components: opts.components || []
        };
      });
      subCache.catch(function () { subCache = null; }); // asked again next time
    }
    return subCache;
  }
  function field(parent, labelText, type, id) {
    var l = parent.appendChild(el("label", "field", labelText)); l.htmlFor = id;
    var box = parent.appendChild(el("input")); box.id = id; box.type = type;
    return box;
  }
  function openSubscribe(prefill) {
    prefill = prefill || {};
    var n = ++subCount, row = el("div", "msg bot sub"), body = row.appendChild(el("div", "bubble"));
    body.appendChild(el("p", "sub-title", T.subTitle));
    var status = el("p", "sub-status"); status.setAttribute("role", "status"); status.setAttribute("aria-live", "polite");
    function say(text, ok) {
      status.textContent = text; status.className = "sub-status " + (ok ? "ok" : "error");
      if (status.scrollIntoView) status.scrollIntoView({ block: "nearest" });
    }
    log.appendChild(row);
    subOptions().then(function (opts) {
      var channels = opts.channels;
      if (!channels.length) { var off = new Error(T.subOff); off.off = true; throw off; }
      var f = body.appendChild(el("form", "sub-form"));
      var kind = channels.indexOf(prefill.kind) >= 0 ? prefill.kind : channels[0];
      f.noValidate = true;
      if (channels.length > 1) {
        var set = f.appendChild(el("fieldset")), legend = set.appendChild(el("legend", null, T.subHow));
        legend.id = "faro-sub-how-" + n;
        channels.forEach(function (c) {
          var l = set.appendChild(el("label", "radio")), r = l.appendChild(el("input"));
          r.type = "radio"; r.name = "kind"; r.value = c; r.checked = c === kind;
          l.appendChild(el("span", null, c === "email" ? T.subEmail : T.subSms));
          r.addEventListener("change", function () { kind = c; showKind(true); });
        });
      }
      var emailBox = el("div", "sub-field"), phoneBox = el("div", "sub-field");
      var email = field(emailBox, T.emailLabel, "email", "faro-sub-email-" + n);
      email.autocomplete = "email"; email.inputMode = "email"; email.placeholder = "name@example.com"; email.maxLength = 254;
      var phone = field(phoneBox, T.phoneLabel, "tel", "faro-sub-phone-" + n);
      phone.autocomplete = "tel"; phone.inputMode = "tel"; phone.placeholder = "+34 612 345 678"; phone.maxLength = 32;
      if (typeof prefill.email === "string") email.value = prefill.email.slice(0, 254);
      if (typeof prefill.phone === "string") phone.value = prefill.phone.slice(0, 32);
      if (channels.indexOf("email") >= 0) f.appendChild(emailBox);
      if (channels.indexOf("sms") >= 0) f.appendChild(phoneBox);
      var parts = opts.components, picked = [];
      if (parts.length) {
        var more = f.appendChild(el("details", "sub-parts"));
        more.appendChild(el("summary", null, T.subParts));
        parts.forEach(function (name) {
          var l = more.appendChild(el("label", "check")), c = l.appendChild(el("input"));
          c.type = "checkbox"; c.value = String(name);
          l.appendChild(el("span", null, String(name)));
          picked.push(c);
        });
      }
      var go = f.appendChild(el("button", "sub-go", T.subscribe)); go.type = "submit";
      var codeForm = el("form", "sub-form"); codeForm.noValidate = true; codeForm.hidden = true;
      var code = field(codeForm, T.codeLabel, "text", "faro-sub-code-" + n);
      code.inputMode = "numeric"; code.autocomplete = "one-time-code"; code.maxLength = 6;
      var ok = codeForm.appendChild(el("button", "sub-go", T.confirm)); ok.type = "submit";
      var back = codeForm.appendChild(el("button", "sub-back", T.newCode)); back.type = "button";
      back.addEventListener("click", function () { // wrong number, or the code never came
        codeForm.hidden = true; f.hidden = false; say("", true); phone.focus();
      });
      body.appendChild(codeForm);
      body.appendChild(status);
      function showKind(focus) {
        emailBox.hidden = kind !== "email"; phoneBox.hidden = kind !== "sms";
        if (focus) (kind === "email" ? email : phone).focus();
      }
      showKind(true);
      var number = "";
      f.addEventListener("submit", function (e) {
        e.preventDefault();
        var req = { lang: lang, components: picked.filter(function (c) { return c.checked; }).map(function (c) { return c.value; }) };
        if (kind === "email") req.email = email.value; else req.phone = phone.value;
        go.disabled = true;
        post("/api/subscribe", req).then(function () {
          if (kind === "email") { f.hidden = true; say(T.sentEmail, true); return; }
          number = phone.value; f.hidden = true; codeForm.hidden = false; say(T.sentSms, true); code.focus();
        }, function (err) { say(err.message || T.failed, false); (kind === "email" ? email : phone).focus(); })
          .then(function () { go.disabled = false; });
      });
      codeForm.addEventListener("submit", function (e) {
        e.preventDefault();
        ok.disabled = true;
        post("/api/subscribe/confirm", { phone: number, code: code.value, lang: lang }).then(function () {
          codeForm.hidden = true; say(T.confirmedSms, true);
        }, function (err) { say(err.message || T.failed, false); code.focus(); })
          .then(function () { ok.disabled = false; });
      });
    }).catch(function (err) {
      body.appendChild(status);
      say(err.off ? T.subOff : T.failed, false);
      var page = body.appendChild(link(T.subPage, server + "/subscribe?lang=" + lang));
      page.className = "alt";
    }).then(function () { log.scrollTop = log.scrollHeight; });
  }
  function note(text) { var row = add({ role: "note", text: text }, { quiet: true }); if (row) row.setAttribute("role", "alert"); }
  function setUnread(n) {
    unread = n;
    badge.hidden = n === 0;
    badge.textContent = n > 9 ? "9+" : String(n);
    launcher.setAttribute("aria-label", n ? T.open + " (" + T.unread(n) + ")" : T.open);
  }

  // --- talking to the server ---------------------------------------------------
  function api(path, options) {
    return fetch(server + path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var err = new Error(body.error || "HTTP " + r.status); err.status = r.status; err.retry = body.retry_after; throw err; }
        return body;
      });
    });
  }
  function post(path, body) {
    return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }
  function setToken(value) { var changed = value !== token; token = value; store("set", KEY, value); return changed; }
  function ensureSession() {
    if (token) return Promise.resolve(token);
    return post("/api/session", {}).then(function (b) { setToken(b.session); return token; });
  }
  function loadHistory() {
    return ensureSession().then(function () {
      return post("/api/history", { session: token });
    }).then(function (b) {
      b.messages.forEach(function (m) { add(m, { quiet: true }); });
      lastId = Math.max(lastId, b.last_id || 0);
      if (!log.querySelector(".msg")) add({ role: "bot", text: T.welcome }, { quiet: true });
    }, function (err) {
      if (err.status === 401) { token = null; store("set", KEY, null); return loadHistory(); }
      throw err;
    });
  }
  function send(text, payload) {
    if (!text) return;
    var pending = add({ role: "user", text: text });
    queue = queue.then(function () {
      typing.hidden = false;
      var body = { text: text, session: token || undefined };
      if (payload) body.payload = payload;
      return post("/api/chat", body).then(function (b) {
        if (setToken(b.session)) connect();
        if (b.user && b.user.id) { seen[b.user.id] = true; lastId = Math.max(lastId, b.user.id); }
        b.messages.forEach(function (m) { add(m); });
        // no reply because a person has the conversation: say the message reached them
        if (b.held && pending) {
          pending.appendChild(el("span", "at held", T.held));
          log.scrollTop = log.scrollHeight;
        }
      }).catch(function (err) {
        if (pending) pending.classList.add("failed");
        note(err.status === 429 ? T.tooFast.replace("{s}", err.retry || 5) : T.failed);
      }).then(function () { typing.hidden = true; });
    });
  }
  function showBanner(b) {
    banner.hidden = !(b && b.active);
    if (banner.hidden) return;
    banner.className = "banner " + String(b.phase || "").replace(/[^a-z_]/g, "");
    bannerText.textContent = "";
    markdown(bannerText, String(b.text || ""));
    fitBanner();
  }
  function fitBanner() { // "More" only when the text is cut
    bannerMore.hidden = !banner.classList.contains("expanded") && bannerText.scrollHeight <= bannerText.clientHeight + 1;
  }
  function connect() { // the session token stays out of URLs: the stream takes a short-lived ticket
    if (!token || !window.EventSource) return;
    if (source) { source.close(); source = null; }
    post("/api/stream-ticket", { session: token }).then(function (b) {
      openStream(server + "/api/events?ticket=" + encodeURIComponent(b.ticket) + "&lang=" + lang + "&after=" + lastId);
    }, function (err) {
      state.textContent = T.offline; state.className = "state off";
      if (err.status === 401) { token = null; store("set", KEY, null); }
      setTimeout(function () { loadHistory().then(connect, connect); }, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    });
  }
  function openStream(url) {
    source = new EventSource(url);
    source.onopen = function () { retryMs = 1000; state.textContent = T.online; state.className = "state"; };
    source.addEventListener("message", function (e) { add(JSON.parse(e.data)); });
    source.addEventListener("banner", function (e) { showBanner(JSON.parse(e.data)); });
    source.onerror = function () {
      state.textContent = T.offline; state.className = "state off";
      if (source.readyState === 2) { // refused (429, 401...): retry ourselves, later
        setTimeout(function () { loadHistory().then(connect, connect); }, retryMs);
        retryMs = Math.min(retryMs * 2, 60000);
      }
    };
  }

  // --- open / close and keyboard -----------------------------------------------
  function setOpen(open, focus) {
    isOpen = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("open", open);
    store("set", OPEN_KEY, open ? "1" : null);
    if (open) { setUnread(0); fitBanner(); log.scrollTop = log.scrollHeight; if (focus) input.focus(); }
    else if (focus) launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(!isOpen, true); });
  closeBtn.addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); setOpen(false, true); } });
  bannerMore.addEventListener("click", function () {
    var open = banner.classList.toggle("expanded");
    bannerMore.textContent = open ? T.less : T.more;
    bannerMore.setAttribute("aria-expanded", String(open));
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text);
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden && isOpen) setUnread(0); });

  function start() {
    document.body.appendChild(host);
    setOpen(store("get", OPEN_KEY) === "1", false);
    loadHistory().then(connect, function () { note(T.failed); });
  }
  window.FaroWidget = { open: function () { setOpen(true, true); }, close: function () { setOpen(false, true); }, lang: lang };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
