/*
 * The web chat page: sends what the resident types (or the button they pick) to
 * /webhooks/webchat/webhook, shows the replies, restores the conversation from
 * /history after a reload and receives staff replies and status updates over
 * Server-Sent Events (/events). A new conversation opens with the assistant's
 * greeting (/start). "Share my location" sends the browser's position (asked
 * only when pressed) as a shared location; a photo (picked or dropped) is
 * uploaded alone (/photo), then sent as a message naming it, with the text in
 * the box as its caption, and with the place it was taken if the resident
 * accepts it. Plain JavaScript, no build step, no dependencies.
 *
 * Untrusted text (everything a message contains) only ever reaches the page as
 * text nodes; links are built as elements, never through innerHTML.
 *
 * The page is rendered in one language: the texts this script writes come from
 * its #chat-texts block (from the catalogs), and each message tells the
 * assistant the language the page was asked in (`metadata.language`), which it
 * uses for a resident it does not know yet. The language links also tell an
 * ongoing conversation, so the assistant switches along with the page.
 */
(function () {
  "use strict";

  var API = "/webhooks/webchat/";
  var STORAGE_KEY = "citybot.webchat.session";
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  var TEXTS = JSON.parse(document.getElementById("chat-texts").textContent);
  var LANGUAGE_HINT = document.body.getAttribute("data-language-hint");
  var LABELS = { user: TEXTS.you_said, bot: TEXTS.assistant_said, staff: TEXTS.staff_said };
  // Web addresses, e-mail addresses and bare city domains ("riverton.gov/trash").
  var LINK = /(?:https?:\/\/[^\s<>"]+|www\.[^\s<>"]+|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}|\b(?:[a-z0-9-]+\.)+(?:gov|org|com|net|edu|us|info)\b(?:\/[^\s<>"]*)?)/gi;
  var TRAILING = /[.,;:!?'")\]]+$/;

  var log = document.getElementById("log");
  var typing = document.getElementById("typing");
  var problem = document.getElementById("problem");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  // Locations, photos and New conversation's question (the photo parts are absent when photos are off).
  var notice = byId("notice");
  var photoInput = byId("photo-file");
  var restartDialog = byId("restart-dialog");
  var PHOTO_MAX_BYTES = Number(document.body.getAttribute("data-photo-max-bytes")) || 0;

  var session = loadSession();
  var seen = new Set();
  var lastId = 0;
  var pending = 0;
  var queue = Promise.resolve();
  var events = null;
  var locating = false;
  var uploaded = null; // a photo waiting for the resident's answer about its location

  function byId(id) { return document.getElementById(id); }

  // --- the session: a random UUID kept in this browser --------------------------

  function newSessionId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function loadSession() {
    var stored = null;
    try { stored = window.localStorage.getItem(STORAGE_KEY); } catch (e) { /* storage blocked: this tab only */ }
    return stored && UUID.test(stored) ? stored : saveSession(newSessionId());
  }

  function saveSession(id) {
    try { window.localStorage.setItem(STORAGE_KEY, id); } catch (e) { /* storage blocked */ }
    return id;
  }

  // --- building messages ------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function linkFor(match) {
    if (/^https?:\/\//i.test(match)) return match;
    if (match.indexOf("@") > 0 && match.indexOf("/") < 0) return "mailto:" + match;
    return "https://" + match;
  }

  /* Text with its web and e-mail addresses turned into links; everything else stays text. */
  function linkify(text) {
    var fragment = document.createDocumentFragment();
    var at = 0;
    text.replace(LINK, function (found, offset) {
      var address = found.replace(TRAILING, "");
      if (!address) return found;
      fragment.append(text.slice(at, offset));
      var link = element("a", null, address);
      link.href = linkFor(address);
      if (link.protocol === "http:" || link.protocol === "https:") {
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.append(element("span", "visually-hidden", " " + TEXTS.new_tab));
      }
      fragment.append(link);
      at = offset + address.length;
      return found;
    });
    fragment.append(text.slice(at));
    return fragment;
  }

  function choices(buttons) {
    var group = element("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXTS.reply_options);
    buttons.forEach(function (button) {
      var choice = element("button", "choice", button.title || button.payload);
      choice.type = "button";
      choice.addEventListener("click", function (event) {
        send(button.payload || button.title, button.title);
        // A keyboard user carries on typing; a tap does not pop up the phone's keyboard.
        if (event.detail === 0) input.focus();
      });
      group.append(choice);
    });
    return group;
  }

  function isWebAddress(value) {
    return typeof value === "string" && /^https?:\/\//i.test(value);
  }

  function bubble(message) {
    var role = LABELS[message.role] ? message.role : "bot";
    var item = element("div", "message message--" + role);
    item.append(element("span", "visually-hidden", LABELS[role] + " "));
    if (role === "staff") {
      var who = element("span", "message__who", TEXTS.staff_name);
      who.setAttribute("aria-hidden", "true");
      item.append(who);
    }
    var text = message.text || (message.custom && typeof message.custom.text === "string" ? message.custom.text : "");
    if (text) {
      var paragraph = element("p", "message__text");
      paragraph.append(role === "user" ? document.createTextNode(text) : linkify(text));
      item.append(paragraph);
    }
    if (isWebAddress(message.image)) {
      var image = element("img", "message__image");
      image.src = message.image;
      image.alt = { user: TEXTS.your_photo, staff: TEXTS.image_from_staff }[role] || TEXTS.image_from_assistant;
      item.append(image);
    }
    if (isWebAddress(message.attachment)) {
      var attachment = element("a", null, TEXTS.attachment);
      attachment.href = message.attachment;
      attachment.target = "_blank";
      attachment.rel = "noopener noreferrer";
      item.append(attachment);
    }
    if (message.buttons && message.buttons.length) item.append(choices(message.buttons));
    return item;
  }

  /* Add a message once (the webhook's answer, the history and the stream may all bring it). */
  function show(message) {
    if (message.id != null) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
      lastId = Math.max(lastId, message.id);
    }
    if (message.role === "user") retireChoices();
    log.append(bubble(message));
  }

  /* Choices of earlier messages no longer apply once the resident has answered. */
  function retireChoices() {
    log.querySelectorAll("button.choice:not([disabled])").forEach(function (button) {
      button.disabled = true;
    });
  }

  function scrollToEnd() {
    window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function setProblem(text) {
    problem.textContent = text || "";
    problem.hidden = !text;
  }

  /* Read out what the page is doing; emptied first, so the same words are announced again. */
  function announce(text) {
    notice.textContent = "";
    if (text) window.setTimeout(function () { notice.textContent = text; }, 50);
  }

  // --- talking to the server ------------------------------------------------------

  /* Show the resident's message and send it after those before it; `extra`: metadata, and the photo's link. */
  function send(text, title, extra) {
    extra = extra || {};
    setProblem("");
    announce(""); // an earlier "Your photo was sent." no longer applies
    show({ role: "user", text: title || text, image: extra.image });
    scrollToEnd();
    queue = queue.then(function () { return post(text, title, extra.metadata); });
    return queue;
  }

  /* Why a message was not sent: the server's words, its status code, or no connection at all. */
  function Refused(reason) { this.reason = reason; }

  function metadataWith(extra) {
    var metadata = Object.assign({}, extra || {});
    if (LANGUAGE_HINT) metadata.language = LANGUAGE_HINT;
    return Object.keys(metadata).length ? metadata : null;
  }

  /* POST `body` (with the metadata) as JSON, the typing indicator shown until `typed()`. */
  function postJson(path, body, extra) {
    pending += 1;
    typing.hidden = false;
    var metadata = metadataWith(extra);
    if (metadata) body.metadata = metadata;
    return fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    });
  }

  function typed() {
    pending -= 1;
    typing.hidden = pending === 0;
  }

  /* Resolves true once the assistant answered, false when the message was not sent. */
  function post(text, title, extra) {
    var body = { session: session, message: text };
    if (title) body.title = title;
    return postJson("webhook", body, extra)
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok || !Array.isArray(data)) {
            throw new Refused(data && data.error ? data.error : TEXTS.http_status.replace("{status}", response.status));
          }
          data.forEach(show);
          return true;
        });
      })
      .catch(function (error) {
        var reason = error instanceof Refused ? error.reason : TEXTS.offline;
        setProblem(TEXTS.not_sent.replace("{reason}", reason));
        if (!title && !input.value) input.value = text;
        return false;
      })
      .then(function (sent) {
        typed();
        scrollToEnd();
        return sent;
      });
  }

  /* A new conversation's first messages: the assistant's greeting and its starter buttons. */
  function greet() {
    return postJson("start", { session: session }, null)
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (messages) { if (Array.isArray(messages)) messages.forEach(show); })
      .catch(function () { /* offline: the resident can still type */ })
      .then(typed);
  }

  // --- a shared location --------------------------------------------------------------

  /* The browser asks the resident only now; refused or unknown, they are told to type the address. */
  function shareLocation() {
    if (locating) return;
    setProblem("");
    if (!navigator.geolocation || !window.isSecureContext) {
      locationFailed(TEXTS.location_unavailable);
      return;
    }
    locating = true;
    byId("share-location").setAttribute("aria-busy", "true");
    announce(TEXTS.locating);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        located();
        var location = { latitude: position.coords.latitude, longitude: position.coords.longitude };
        send(TEXTS.my_location, null, { metadata: { location: location } }).then(function (sent) {
          if (sent) announce(TEXTS.location_shared);
        });
      },
      function (error) {
        located();
        locationFailed(error && error.code === 1 ? TEXTS.location_refused : TEXTS.location_unavailable);
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  }

  function located() {
    locating = false;
    byId("share-location").removeAttribute("aria-busy");
  }

  function locationFailed(text) {
    announce("");
    setProblem(text);
    input.focus();
  }

  // --- photos ---------------------------------------------------------------------------

  function photoRefused(reason, fallback) {
    announce("");
    setProblem(TEXTS["photo_" + reason] || TEXTS.not_sent.replace("{reason}", fallback || TEXTS.offline));
  }

  /* Upload a picked or dropped file; the server checks it (the size is checked here first, to spare the upload). */
  function sendPhoto(file) {
    setProblem("");
    hideOffer();
    if (!file) return;
    if (file.size === 0) return photoRefused("empty");
    if (PHOTO_MAX_BYTES && file.size > PHOTO_MAX_BYTES) return photoRefused("too_large");
    announce(TEXTS.photo_sending);
    queue = queue.then(function () {
      return fetch(API + "photo?session=" + encodeURIComponent(session), {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: file
      })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (data) {
            if (response.ok && data && data.photo) return offerPlace(data);
            var status = TEXTS.http_status.replace("{status}", response.status);
            photoRefused(data && data.reason, data && data.error ? data.error : status);
          });
        })
        .catch(function () { photoRefused(null, TEXTS.offline); });
    });
  }

  /* A photo that says where it was taken: the resident chooses whether that is the report's location. */
  function offerPlace(photo) {
    if (!photo.position) return sendUploaded(photo, null);
    uploaded = photo;
    announce("");
    byId("photo-place").hidden = false;
    scrollToEnd();
    byId("photo-place-use").focus();
  }

  function hideOffer() {
    uploaded = null;
    if (photoInput) byId("photo-place").hidden = true;
  }

  function answerOffer(usePlace) {
    var photo = uploaded;
    hideOffer();
    input.focus();
    if (photo) sendUploaded(photo, usePlace ? photo.position : null);
  }

  /* The photo as a message: the text in the box is its caption. */
  function sendUploaded(photo, location) {
    var caption = input.value.trim();
    input.value = "";
    var metadata = { photo: photo.photo };
    if (location) metadata.location = location;
    send(caption, null, { metadata: metadata, image: photo.link }).then(function (sent) {
      if (sent) announce(TEXTS.photo_sent);
    });
  }

  function draggingFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0;
  }

  function restore() {
    // Read the old conversation silently; only new messages are announced.
    log.setAttribute("aria-live", "off");
    return fetch(API + "history?session=" + encodeURIComponent(session))
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (messages) { messages.forEach(show); })
      .catch(function () { /* a first visit, or offline: start empty */ })
      .then(function () {
        log.setAttribute("aria-live", "polite");
        scrollToEnd();
        listen();
        if (!log.querySelector(".message")) queue = queue.then(greet);
      });
  }

  /* Staff replies and status updates arrive here; the browser reconnects by itself. */
  function listen() {
    if (events) events.close();
    if (!window.EventSource) return;
    events = new EventSource(API + "events?session=" + encodeURIComponent(session) + "&after=" + lastId);
    events.onmessage = function (event) {
      try {
        show(JSON.parse(event.data));
        scrollToEnd();
      } catch (e) { /* not a message */ }
    };
  }

  function restart() {
    session = saveSession(newSessionId());
    seen.clear();
    lastId = 0;
    log.replaceChildren();
    setProblem("");
    hideOffer();
    announce("");
    listen();
    queue = queue.then(greet);
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  /* New conversation clears the page: asked first (a native modal dialog: focus stays in it, Escape cancels). */
  document.getElementById("restart").addEventListener("click", function () {
    restartDialog.showModal();
    byId("restart-cancel").focus();
  });
  byId("restart-cancel").addEventListener("click", function () { restartDialog.close(); });
  byId("restart-confirm").addEventListener("click", function () {
    restartDialog.close();
    restart();
  });

  byId("share-location").addEventListener("click", shareLocation);

  if (photoInput) {
    byId("add-photo").addEventListener("click", function () { photoInput.click(); });
    photoInput.addEventListener("change", function () {
      var file = photoInput.files && photoInput.files[0];
      photoInput.value = ""; // the same file can be picked again
      sendPhoto(file);
    });
    byId("photo-place-use").addEventListener("click", function () { answerOffer(true); });
    byId("photo-place-skip").addEventListener("click", function () { answerOffer(false); });

    // Drag and drop anywhere on the page (the button does the same from the keyboard).
    var dragDepth = 0;
    document.addEventListener("dragenter", function (event) {
      if (!draggingFiles(event)) return;
      event.preventDefault();
      dragDepth += 1;
      byId("drop-zone").hidden = false;
    });
    document.addEventListener("dragover", function (event) {
      if (draggingFiles(event)) event.preventDefault();
    });
    document.addEventListener("dragleave", function () {
      dragDepth = Math.max(0, dragDepth - 1);
      if (!dragDepth) byId("drop-zone").hidden = true;
    });
    document.addEventListener("drop", function (event) {
      if (!draggingFiles(event)) return;
      event.preventDefault();
      dragDepth = 0;
      byId("drop-zone").hidden = true;
      sendPhoto(event.dataTransfer.files[0]);
    });
  }

  /* Another language: an ongoing conversation is told first (as the greeting's language button
     does), so the assistant answers in the language the page is then shown in. */
  document.querySelectorAll("a[data-language]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!log.querySelector(".message")) return; // nothing said yet: the page's language is the hint
      event.preventDefault();
      var choice = JSON.stringify({ language: link.getAttribute("data-language") });
      send("/set_language" + choice, link.textContent.trim());
      queue.then(function () { window.location.assign(link.href); });
    });
  });

  // Embedded on a city's site: Escape closes the chat panel (see embed.js).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && window.parent !== window && !restartDialog.open && !event.defaultPrevented) {
      window.parent.postMessage({ type: "citybot-webchat:close" }, "*");
    }
  });

  restore();
})();
