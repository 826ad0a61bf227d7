/*
 * The staff console's live parts: the queue, the open conversation and a crisis
 * alert's delivery update over Server-Sent Events; replies and notes are sent
 * without a reload. Everything a
 * resident or a colleague wrote reaches the page as text nodes, never as HTML.
 * Without JavaScript the pages still work: forms post and the page reloads.
 */
(function () {
  "use strict";

  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";
  var zone = body.getAttribute("data-zone") || undefined;
  var page = body.getAttribute("data-page");
  var CHANNELS = { webchat: "Web chat", telegram: "Telegram", sms: "SMS", whatsapp: "WhatsApp", rest: "REST API" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function say(id, text) {
    var region = document.getElementById(id);
    if (!region) return;
    region.textContent = text || "";
    region.hidden = !text;
  }

  function clock(date) {
    try {
      return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone });
    } catch (e) {
      return date.toLocaleTimeString();
    }
  }

  function waited(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return "less than a minute";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
  }

  function refreshWaits() {
    document.querySelectorAll("time[data-since]").forEach(function (node) {
      node.textContent = waited(node.getAttribute("datetime"));
    });
  }

  function hiddenCsrf() {
    var input = el("input");
    input.type = "hidden";
    input.name = "csrf_token";
    input.value = csrf;
    return input;
  }

  // A form that loads another page stops the live updates, so they cannot race it.
  var sources = [];
  var leaving = false;
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute("data-live")) return;
    leaving = true;
    sources.forEach(function (source) { source.close(); });
  }, true);

  function listen(url, handlers) {
    if (!window.EventSource) return null;
    var source = new EventSource(url);
    sources.push(source);
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        handlers[name](data);
      });
    });
    source.addEventListener("signed-out", function () {
      source.close();
      window.location.assign("/console/login?next=" + encodeURIComponent(window.location.pathname));
    });
    return source;
  }

  // --- the queue -----------------------------------------------------------------

  function queueRow(item) {
    var row = el("tr");
    row.setAttribute("data-handoff", item.id);
    row.setAttribute("data-conversation", item.conversation);
    row.setAttribute("data-state", item.state);
    if (item.urgent) row.setAttribute("data-urgent", "");
    if (item.newest) row.setAttribute("data-newest", "");
    var head = el("th");
    head.scope = "row";
    var link = el("a", null, "#" + item.id);
    link.href = "/console/handoffs/" + item.id;
    head.append(link);
    if (item.newest) {
      head.append(" ");
      head.append(el("strong", "flag flag--new", item.newest_text));
    }
    row.append(head);
    row.append(el("td", null, item.channel_name || CHANNELS[item.channel] || item.channel));
    var language = el("td", null, item.language_name || "");
    language.setAttribute("data-language", "");
    row.append(language);
    var since = el("time", null, waited(item.created_at));
    since.setAttribute("datetime", item.created_at);
    since.setAttribute("data-since", "");
    var sinceCell = el("td");
    sinceCell.append(since);
    row.append(sinceCell);
    var reason = el("td");
    if (item.urgent) {
      reason.append(el("strong", "flag flag--urgent", item.urgent_text));
      reason.append(" ");
    }
    reason.append(item.reason_text);
    row.append(reason);
    var latest = el("td", "latest", item.latest_message || "");
    latest.setAttribute("data-latest", "");
    row.append(latest);
    var me = (document.querySelector(".banner__account strong") || {}).textContent;
    var state = item.state === "waiting" ? "Waiting" : (item.claimed_by === me ? "Claimed by you" : "Claimed by " + item.claimed_by);
    row.append(el("td", null, state));
    var action = el("td");
    if (item.state === "waiting") {
      var form = el("form");
      form.method = "post";
      form.action = "/console/handoffs/" + item.id + "/claim";
      form.append(hiddenCsrf());
      var button = el("button", "primary", "Claim");
      button.type = "submit";
      button.setAttribute("aria-label", "Claim conversation " + item.id);
      form.append(button);
      action.append(form);
    } else {
      var open = el("a", null, "Open");
      open.href = "/console/handoffs/" + item.id;
      open.append(el("span", "visually-hidden", " conversation " + item.id));
      action.append(open);
    }
    row.append(action);
    return row;
  }

  function showQueue(data) {
    var rows = document.getElementById("queue-rows");
    if (!rows) return;
    var focused = document.activeElement;
    var focusedRow = focused && rows.contains(focused) ? focused.closest("tr") : null;
    var focusId = focusedRow ? focusedRow.getAttribute("data-handoff") : null;
    var focusTag = focused ? focused.tagName : null;
    var before = rows.querySelectorAll("tr[data-state='waiting']").length;
    rows.replaceChildren.apply(rows, data.items.map(queueRow));
    var waiting = data.items.filter(function (item) { return item.state === "waiting"; }).length;
    var empty = document.getElementById("queue-empty");
    if (empty) {
      if (!data.items.length) empty.textContent = "Nobody is waiting.";
      else if (waiting > before) empty.textContent = waiting + (waiting === 1 ? " conversation" : " conversations") + " waiting.";
      else empty.textContent = "";
    }
    var duty = document.getElementById("on-duty");
    if (duty) duty.textContent = data.on_duty.length ? data.on_duty.join(", ") : "nobody";
    if (focusId) {
      var again = rows.querySelector("tr[data-handoff='" + focusId + "'] " + (focusTag === "BUTTON" ? "button" : "a"));
      if (again) again.focus();
    }
    document.title = (data.waiting ? "(" + data.waiting + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    announceArrivals(data.items);
  }

  // --- telling staff someone new is waiting (off until they turn it on) -------------------

  var SOUND_KEY = "citybot.console.sound";
  var NOTIFY_KEY = "citybot.console.notify";
  var known = {};  // what was waiting (and whether urgent) when last seen: handoff id -> urgent
  document.querySelectorAll("#queue-rows tr[data-state='waiting']").forEach(function (row) {
    known[row.getAttribute("data-handoff")] = row.hasAttribute("data-urgent");
  });
  var audio = null;

  function remembered(key) {
    try { return window.localStorage.getItem(key) === "on"; } catch (e) { return false; }
  }

  function remember(key, on) {
    try {
      if (on) window.localStorage.setItem(key, "on");
      else window.localStorage.removeItem(key);
    } catch (e) { /* private browsing: the choice lasts for this page only */ }
  }

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    [0, 0.18].forEach(function (delay, index) {
      var tone = audio.createOscillator();
      var volume = audio.createGain();
      var start = audio.currentTime + delay;
      tone.frequency.value = index ? 880 : 660;
      volume.gain.setValueAtTime(0.2, start);
      volume.gain.exponentialRampToValueAtTime(0.001, start + 0.16);
      tone.connect(volume).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.16);
    });
  }

  function notify(item) {
    if (!window.Notification || Notification.permission !== "granted") return;
    // Channel and language only: a notification can show on a locked screen.
    var title = item.urgent ? "Urgent: someone waiting reported an emergency" : "Someone new is waiting";
    try {
      var shown = new Notification(title, {
        body: (item.channel_name || item.channel) + ", " + (item.language_name || "") + " (handoff #" + item.id + ")",
        tag: "citybot-handoff-" + item.id + (item.urgent ? "-urgent" : "")
      });
      shown.onclick = function () { window.focus(); shown.close(); };
    } catch (e) { /* a browser that shows notifications only from a service worker: the sound and the title remain */ }
  }

  function announceArrivals(items) {
    var waiting = items.filter(function (item) { return item.state === "waiting"; });
    var arrivals = waiting.filter(function (item) {
      var before = known[item.id];
      return before === undefined || (item.urgent && !before);
    });
    known = {};
    waiting.forEach(function (item) { known[item.id] = !!item.urgent; });
    if (!arrivals.length) return;
    if (remembered(SOUND_KEY)) chime();
    if (remembered(NOTIFY_KEY)) arrivals.forEach(notify);
  }

  function alertSwitches() {
    var box = document.getElementById("arrival-alerts");
    var sound = document.getElementById("alert-sound");
    var notice = document.getElementById("alert-notify");
    if (!box || !sound || !notice) return;
    box.hidden = false;
    sound.checked = remembered(SOUND_KEY);
    notice.checked = remembered(NOTIFY_KEY) && !!window.Notification && Notification.permission === "granted";
    sound.addEventListener("change", function () {
      remember(SOUND_KEY, sound.checked);
      if (sound.checked) chime();  // this click lets the page play sounds, and staff hear what to expect
    });
    notice.addEventListener("change", function () {
      say("problem", "");
      if (!notice.checked) { remember(NOTIFY_KEY, false); return; }
      if (!window.Notification) {
        notice.checked = false;
        say("problem", "This browser cannot show notifications.");
        return;
      }
      var granted = function (permission) {
        notice.checked = permission === "granted";
        remember(NOTIFY_KEY, notice.checked);
        if (!notice.checked) say("problem", "Notifications are blocked for the console: allow them in the browser's site settings.");
      };
      // Asked here, on this click only: never when the page loads.
      if (Notification.permission === "default") {
        Notification.requestPermission().then(granted);
      } else {
        granted(Notification.permission);
      }
    });
  }

  // --- one conversation ------------------------------------------------------------

  var WHO = { resident: "Resident", assistant: "Assistant", event: "Note from the system" };

  function turnItem(turn) {
    var item = el("li", "turn turn--" + turn.who);
    item.setAttribute("data-index", turn.index);
    item.append(el("span", "turn__who", turn.who === "staff" ? "Staff (" + turn.staff + ")" : (WHO[turn.who] || turn.who)));
    item.append(" ");
    var moment = new Date(turn.at * 1000);
    var time = el("time", null, clock(moment));
    time.setAttribute("datetime", moment.toISOString());
    item.append(time);
    item.append(el("p", "turn__text", turn.text));
    if (turn.buttons && turn.buttons.length) item.append(el("p", "turn__buttons", "Buttons: " + turn.buttons.join(" | ")));
    return item;
  }

  function noteItem(note) {
    var item = el("li", "note");
    item.setAttribute("data-note", note.id);
    item.append(el("span", "turn__who", note.author));
    item.append(" ");
    var time = el("time", null, clock(new Date(note.at)));
    time.setAttribute("datetime", note.at);
    item.append(time);
    item.append(el("p", "turn__text", note.text));
    return item;
  }

  function addTurn(turn) {
    var log = document.getElementById("transcript");
    if (!log || log.querySelector("[data-index='" + turn.index + "']")) return;
    log.append(turnItem(turn));
    var box = document.getElementById("transcript-box");
    if (box) box.scrollTop = box.scrollHeight;
  }

  function addNote(note) {
    var list = document.getElementById("notes");
    if (!list || list.querySelector("[data-note='" + note.id + "']")) return;
    list.append(noteItem(note));
  }

  function stateChanged(handoff) {
    var log = document.getElementById("transcript");
    if (!log || leaving) return;
    if (log.getAttribute("data-state") === handoff.state &&
        (log.getAttribute("data-claimed-by") || "") === (handoff.claimed_by || "")) return;
    var text = handoff.state === "waiting" ? "Waiting" :
      handoff.state === "claimed" ? "Claimed by " + handoff.claimed_by : "Resolved";
    var state = document.getElementById("handoff-state");
    if (state) state.textContent = text;
    var typing = Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) { return t.value; });
    if (typing) say("notice", "This conversation changed: " + text + ". Reload the page to continue.");
    else window.location.assign(window.location.pathname);
  }

  function sendLive(form, done) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var box = form.querySelector("textarea");
      if (box && !box.value.trim()) { box.focus(); return; }
      if (button) button.disabled = true;
      say("problem", "");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
        credentials: "same-origin"
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) throw new Error(data && data.error ? data.error : "status " + response.status);
            if (box) box.value = "";
            done(data);
          });
        })
        .catch(function (error) { say("problem", "Not sent: " + error.message); })
        .then(function () {
          if (button) button.disabled = false;
          if (box) box.focus();
        });
    });
  }

  // --- a crisis alert --------------------------------------------------------------

  function reload() {
    leaving = true;
    sources.forEach(function (source) { source.close(); });
    window.location.replace(window.location.pathname);  // without the last step's notice
  }

  function showProgress(data) {
    var box = document.getElementById("alert-progress");
    if (!box || leaving) return;
    // Approved, changed, sent, finished or cancelled elsewhere: the page's buttons change with it.
    if (data.state !== box.getAttribute("data-state") ||
        String(data.revision) !== box.getAttribute("data-revision") ||
        data.approved_by !== box.getAttribute("data-approved") ||
        (data.page_post || "") !== (box.getAttribute("data-page-post") || "")) {
      reload();
      return;
    }
    var rows = Object.keys(data.channels).map(function (channel) { return [channel, data.channels[channel]]; });
    rows.push(["all", data.all]);
    rows.forEach(function (row) {
      Object.keys(row[1]).forEach(function (state) {
        var cell = box.querySelector('[data-count="' + row[0] + ":" + state + '"]');
        if (cell) cell.textContent = String(row[1][state]);
      });
    });
    var summary = document.getElementById("delivery-summary");
    if (summary) {
      summary.textContent = data.finished + " of " + data.all.total + " finished: " + data.all.sent + " sent, " +
        data.all.failed + " failed, " + data.all.pending + " pending.";
    }
    var state = document.getElementById("alert-state");
    if (state) state.textContent = data.state_name;
  }

  if (page === "alert") {
    var progressBox = document.getElementById("alert-progress");
    if (progressBox) {
      listen("/console/alerts/" + progressBox.getAttribute("data-alert") + "/stream", { progress: showProgress });
    }
  }

  if (page === "queue") {
    alertSwitches();
    listen("/console/stream", { queue: showQueue });
    window.setInterval(refreshWaits, 15000);
  }

  if (page === "conversation") {
    var log = document.getElementById("transcript");
    if (log) {
      var box = document.getElementById("transcript-box");
      if (box) box.scrollTop = box.scrollHeight;
      var id = log.getAttribute("data-handoff");
      listen("/console/handoffs/" + id + "/stream?after=" + log.getAttribute("data-after") + "&note=" + log.getAttribute("data-note"),
        { turn: addTurn, note: addNote, state: stateChanged });
    }
    var reply = document.getElementById("reply-form");
    if (reply) {
      sendLive(reply, function (data) {
        if (data.not_delivered) say("problem", "Added to the transcript but not delivered: " + data.not_delivered + ".");
        else say("notice", "Reply sent.");
      });
      var replyBox = reply.querySelector("textarea");
      replyBox.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          reply.requestSubmit ? reply.requestSubmit() : reply.dispatchEvent(new Event("submit", { cancelable: true }));
        }
      });
    }
    var notes = document.getElementById("note-form");
    if (notes) {
      sendLive(notes, function (data) {
        if (data.note) addNote(data.note);
        say("notice", "Note saved.");
      });
    }
  }
})();
