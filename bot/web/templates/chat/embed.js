/*
 * The web chat on a city's own site, with one tag:
 *
 *   <script src="https://bot.city.gov/chat/embed.js" async></script>
 *
 * Adds a "Chat with 311" button at the bottom right that opens the assistant's
 * /chat page in a panel (an iframe from the assistant's own origin, so the host
 * page's scripts and styles cannot reach the conversation). Styles are set on
 * the elements (no <style> tag), so a strict Content-Security-Policy on the host
 * page only needs to allow this script and frames from the assistant.
 *
 * The assistant renders this script (a Jinja2 template) in the language the
 * script URL asks for (`embed.js?lang=es`), else the visitor's browser language,
 * with the city's colour. The chat opens in that language too.
 */
(function () {
  "use strict";

  if (window.__citybotWebchat) return; // the tag was added twice
  window.__citybotWebchat = true;

  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/", window.location.href).origin;
  // Rendered by the assistant: texts in this script's language, the city's colour.
  var PAGE = {{ {
    "label": _("web.embed.open", phone=brand.phone),
    "title": _("web.embed.frame_title", phone=brand.phone),
    "language": language,
    "asked": asked|default("", true),
    "colour": brand.brand,
  }|tojson }};
  var CHAT_PATH = "/chat";
  var customLabel = script && script.getAttribute("data-label");
  var PANEL_ID = "citybot-webchat-panel";

  function styled(tag, styles) {
    var node = document.createElement(tag);
    Object.keys(styles).forEach(function (name) { node.style.setProperty(name, styles[name]); });
    return node;
  }

  var launcher = styled("button", {
    position: "fixed", right: "1rem", bottom: "1rem", "z-index": "2147483646",
    padding: "0.75rem 1.25rem", "min-height": "2.75rem", border: "2px solid #ffffff",
    "border-radius": "2rem", background: PAGE.colour, color: "#ffffff",
    font: "700 1rem/1.2 system-ui, sans-serif", cursor: "pointer",
    "box-shadow": "0 2px 8px rgba(0, 0, 0, 0.3)"
  });
  launcher.type = "button";
  launcher.textContent = customLabel || PAGE.label;
  if (!customLabel) launcher.lang = PAGE.language;
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", PANEL_ID);

  var panel = styled("div", {
    position: "fixed", right: "1rem", bottom: "4.5rem", "z-index": "2147483647",
    width: "min(26rem, calc(100vw - 2rem))", height: "min(40rem, calc(100vh - 6rem))",
    background: "#ffffff", border: "1px solid #5c6670", "border-radius": "0.75rem",
    overflow: "hidden", "box-shadow": "0 4px 24px rgba(0, 0, 0, 0.3)"
  });
  panel.id = PANEL_ID;
  panel.hidden = true;

  var frame = styled("iframe", { width: "100%", height: "100%", border: "0", display: "block" });
  frame.title = PAGE.title;
  frame.lang = PAGE.language;
  panel.appendChild(frame);

  function setOpen(open) {
    // The chat loads on first open: visitors who never open it cost the assistant nothing.
    // A language the script URL asked for is passed on; else the chat negotiates the same one.
    if (open && !frame.src) frame.src = origin + CHAT_PATH + (PAGE.asked ? "?lang=" + encodeURIComponent(PAGE.asked) : "");
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) frame.focus();
    else launcher.focus();
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) setOpen(false);
  });
  // Escape pressed inside the chat (a cross-origin frame) arrives as a message.
  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.data && event.data.type === "citybot-webchat:close") setOpen(false);
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(launcher);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
