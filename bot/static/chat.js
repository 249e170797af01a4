// Demo chat box for Faro's web channel. Everything is rendered with
// textContent: bot and user text stay inert.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var KEY = "faro.session";

  function add(kind, text) {
    var li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function render(messages) {
    messages.forEach(function (m) {
      var li = add("bot", m.text || "");
      if (m.buttons && m.buttons.length) {
        var box = document.createElement("div");
        box.className = "choices";
        m.buttons.forEach(function (b) {
          var btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.title;
          btn.addEventListener("click", function () { send(b.title, b.payload); });
          box.appendChild(btn);
        });
        li.appendChild(box);
      }
    });
  }

  function send(text, payload) {
    add("user", text);
    var body = { text: text, session: localStorage.getItem(KEY) || undefined };
    if (payload) body.payload = payload;
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
        localStorage.setItem(KEY, data.session);
        render(data.messages);
      });
    }).catch(function (err) {
      add("bot error", "Sorry, the assistant is unreachable (" + err.message + ").");
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
