/*!
 * Clinic chat widget: the clinic FAQ assistant on any web page, with one script tag.
 *
 *   <script src="https://YOUR-SITE/widget/clinic-chat.js" async
 *           data-server="https://assistant.example.org"   (the assistant's address; its origin
 *                                                          must be in the assistant's CORS_ORIGINS)
 *           data-clinic-name="Example Pain Clinic"
 *           data-color="#0b6e6e"                          (header, launcher and visitor bubbles)
 *           data-greeting="Questions about ketamine infusions? Ask here."
 *           data-position="right"                         (or "left")
 *           data-phone="(555) 010-0000"></script>         (shown when the assistant can't be reached)
 *
 * or, before the tag, window.ClinicChatConfig = {server: ..., clinicName: ..., color: ...,
 * greeting: ..., position: ..., phone: ..., initPayload: "/greet", historyHours: 24}.
 *
 * No dependencies and no build step. It talks to the assistant's REST channel
 * (POST <server>/webhooks/rest/webhook) with fetch. Every text from the server or the visitor is
 * put on the page as a text node, never as HTML. The sender id and the conversation are kept in
 * localStorage so that the conversation goes on after a reload or on another page of the same site.
 * Nothing runs before DOMContentLoaded, nothing is sent before the visitor opens the chat, and any
 * failure ends in a polite message inside the panel, never an error on the host page.
 */
(function () {
  "use strict";

  if (window.__clinicChatLoaded) return; // the tag pasted twice
  window.__clinicChatLoaded = true;

  var VERSION = "1.0.0";
  var REQUEST_TIMEOUT_MS = 45000;
  var MAX_STORED_MESSAGES = 200;
  var MAX_MESSAGE_CHARS = 1000;
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>"']*/gi;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var script = document.currentScript || findScript();

  function findScript() {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/clinic-chat(\.min)?\.js(\?|#|$)/.test(scripts[i].src || "")) return scripts[i];
    }
    return null;
  }

  function readConfig() {
    var given = window.ClinicChatConfig || {};
    var data = (script && script.dataset) || {};
    function pick(name, fallback) {
      var value = data[name] !== undefined ? data[name] : given[name];
      return value === undefined || value === null || value === "" ? fallback : String(value);
    }
    var config = {
      server: pick("server", location.protocol + "//" + location.hostname + ":5005").replace(/\/+$/, ""),
      clinicName: pick("clinicName", "the clinic"),
      color: pick("color", ""),
      greeting: pick("greeting", ""),
      position: pick("position", "right") === "left" ? "left" : "right",
      phone: pick("phone", ""),
      initPayload: data.initPayload !== undefined ? data.initPayload : given.initPayload !== undefined ? String(given.initPayload) : "/greet",
      historyHours: parseFloat(pick("historyHours", "24")) || 24,
      stylesheet: pick("stylesheet", script && script.src ? script.src.replace(/clinic-chat(\.min)?\.js([?#].*)?$/, "clinic-chat.css") : "")
    };
    return config;
  }

  /* ---------- storage: localStorage when allowed, memory otherwise ---------- */

  function makeStore(key) {
    var memory = null;
    return {
      key: key,
      load: function () {
        try {
          var raw = window.localStorage.getItem(key);
          return raw ? JSON.parse(raw) : memory;
        } catch (e) {
          return memory;
        }
      },
      save: function (state) {
        memory = state;
        try {
          window.localStorage.setItem(key, JSON.stringify(state));
        } catch (e) {
          /* storage full or blocked: the conversation lasts until the page is left */
        }
      },
      clear: function () {
        memory = null;
        try {
          window.localStorage.removeItem(key);
        } catch (e) {
          /* nothing to do */
        }
      }
    };
  }

  function newSenderId() {
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var hex = "";
    for (var j = 0; j < bytes.length; j++) hex += (bytes[j] + 256).toString(16).slice(1);
    return "web-" + hex;
  }

  function freshState() {
    return { version: 1, sender: newSenderId(), messages: [], open: false, updated: Date.now() };
  }

  function validState(state, maxAgeHours) {
    return (
      state && state.version === 1 && typeof state.sender === "string" && /^web-[0-9a-f]{32}$/.test(state.sender) &&
      Array.isArray(state.messages) && typeof state.updated === "number" &&
      Date.now() - state.updated < maxAgeHours * 3600 * 1000
    );
  }

  /* ---------- small DOM helpers (text nodes only) ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, name)) continue;
        if (name === "className") node.className = attrs[name];
        else if (name === "text") node.textContent = attrs[name];
        else node.setAttribute(name, attrs[name]);
      }
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(pathData, className) {
    var svg = document.createElementNS(SVG_NS, "svg");
    if (className) svg.setAttribute("class", className);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  var CHAT_ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z";
  var CLOSE_ICON = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z";
  var SEND_ICON = "M3 20.5V14l9-2-9-2V3.5L22 12z";

  /** Bot or visitor text as nodes: text nodes, with web addresses as links (http and https only). */
  function textWithLinks(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation is not part of the address
      if (offset > last) fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = /^https?:\/\//i.test(url) ? url : "https://" + url;
      var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" });
      link.textContent = url;
      link.appendChild(el("span", { className: "cc-sr" }, [" (opens in a new tab)"]));
      fragment.appendChild(link);
      last = offset + url.length;
      return match;
    });
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  /* ---------- the widget ---------- */

  function ClinicChat(config) {
    this.config = config;
    this.store = makeStore("clinicChat:" + config.server);
    var saved = this.store.load();
    this.state = validState(saved, config.historyHours) ? saved : freshState();
    this.queue = Promise.resolve();
    this.pending = 0;
    this.build();
    this.renderHistory();
    this.followOtherTabs();
    if (this.state.open && !this.isPhone()) this.open(false); // keep it open across pages on wide screens
  }

  /** The same site open in two tabs shows one conversation: redraw when the other tab changes it. */
  ClinicChat.prototype.followOtherTabs = function () {
    var self = this;
    window.addEventListener("storage", function (event) {
      if (event.key !== self.store.key) return;
      var saved = self.store.load();
      if (!validState(saved, self.config.historyHours)) return;
      saved.open = self.state.open;
      self.state = saved;
      while (self.log.firstChild) self.log.removeChild(self.log.firstChild);
      self.renderHistory();
      self.scrollToEnd();
    });
  };

  ClinicChat.prototype.isPhone = function () {
    return window.matchMedia ? window.matchMedia("(max-width: 480px)").matches : false;
  };

  ClinicChat.prototype.build = function () {
    var self = this;
    var config = this.config;
    var uid = "cc-" + Math.random().toString(36).slice(2, 8);

    this.host = el("div", { id: "clinic-chat", "data-version": VERSION });
    if (config.color && window.CSS && CSS.supports && CSS.supports("color", config.color)) {
      this.host.style.setProperty("--cc-color", config.color); // CSSOM, allowed under a strict CSP
    }
    var root = this.host.attachShadow ? this.host.attachShadow({ mode: "open" }) : this.host;
    this.root = root;

    var wrapper = el("div", { className: "cc-root cc-" + config.position });
    if (config.stylesheet) {
      // Hidden until its styles have loaded, so the page never shows an unstyled widget.
      wrapper.hidden = true;
      var sheet = el("link", { rel: "stylesheet", href: config.stylesheet });
      sheet.addEventListener("load", function () { wrapper.hidden = false; });
      sheet.addEventListener("error", function () { wrapper.hidden = false; });
      root.appendChild(sheet);
    }

    var named = config.clinicName !== "the clinic";
    var title = named ? config.clinicName : "Ask the clinic";
    this.launcher = el("button", {
      type: "button", className: "cc-launcher", "aria-expanded": "false", "aria-controls": uid + "-panel",
      "aria-label": "Chat with the " + (named ? config.clinicName : "clinic's") + " assistant"
    }, [
      icon(CHAT_ICON, "cc-icon-chat"), icon(CLOSE_ICON, "cc-icon-close"),
      el("span", { className: "cc-launcher-text", "aria-hidden": "true" }, ["Questions?"])
    ]);

    this.closeButton = el("button", { type: "button", className: "cc-icon-button", "aria-label": "Close chat" }, [icon(CLOSE_ICON)]);
    this.resetButton = el("button", {
      type: "button", className: "cc-text-button",
      "aria-label": "Start over: delete this conversation from this browser"
    }, ["Start over"]);

    this.log = el("div", {
      className: "cc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Conversation", tabindex: "0"
    });
    this.typing = el("div", { className: "cc-typing", role: "status", hidden: "" }, [
      el("span", { className: "cc-dot", "aria-hidden": "true" }),
      el("span", { className: "cc-dot", "aria-hidden": "true" }),
      el("span", { className: "cc-dot", "aria-hidden": "true" }),
      el("span", { className: "cc-sr" }, ["The assistant is typing"])
    ]);
    this.notice = el("div", { className: "cc-notice", role: "status" });

    this.input = el("input", {
      id: uid + "-input", type: "text", className: "cc-input", autocomplete: "off",
      maxlength: String(MAX_MESSAGE_CHARS), placeholder: "Type your question", enterkeyhint: "send"
    });
    this.sendButton = el("button", { type: "submit", className: "cc-send", "aria-label": "Send" }, [icon(SEND_ICON)]);
    this.form = el("form", { className: "cc-form", "aria-label": "Send a message" }, [
      el("label", { className: "cc-sr", "for": uid + "-input" }, ["Your question for the assistant"]),
      this.input, this.sendButton
    ]);

    var intro = [el("p", { className: "cc-disclaimer" }, [
      "Automated answers from the clinic's articles. General information, not medical advice. In an emergency call 911."
    ])];
    if (config.greeting) intro.unshift(el("p", { className: "cc-greeting" }, [config.greeting]));

    this.panel = el("div", {
      id: uid + "-panel", className: "cc-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": uid + "-title", "aria-describedby": uid + "-subtitle", hidden: ""
    }, [
      el("div", { className: "cc-header" }, [
        el("div", { className: "cc-titles" }, [
          el("h2", { id: uid + "-title", className: "cc-title" }, [title]),
          el("p", { id: uid + "-subtitle", className: "cc-subtitle" }, ["Automated assistant"])
        ]),
        this.resetButton, this.closeButton
      ]),
      el("div", { className: "cc-body" }, [el("div", { className: "cc-intro" }, intro), this.log, this.typing, this.notice]),
      this.form
    ]);

    wrapper.appendChild(this.panel);
    wrapper.appendChild(this.launcher);
    root.appendChild(wrapper);
    this.body = this.panel.querySelector(".cc-body");

    this.launcher.addEventListener("click", function () {
      if (self.panel.hidden) self.open(true); else self.close(true);
    });
    this.closeButton.addEventListener("click", function () { self.close(true); });
    this.resetButton.addEventListener("click", function () { self.reset(); });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.stopPropagation();
        self.close(true);
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.send(text, text);
    });

    document.body.appendChild(this.host);
  };

  ClinicChat.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.panel.parentNode.classList.add("cc-open");
    this.setOpen(true);
    this.scrollToEnd();
    if (focus) this.input.focus();
    if (!this.state.messages.length && this.config.initPayload && !this.greeted) {
      this.greeted = true;
      this.send(this.config.initPayload, null); // the assistant's own greeting, with its suggestions
    }
  };

  ClinicChat.prototype.close = function (focus) {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.panel.parentNode.classList.remove("cc-open");
    this.setOpen(false);
    if (focus) this.launcher.focus();
  };

  ClinicChat.prototype.setOpen = function (open) {
    this.state.open = open;
    this.persist();
  };

  ClinicChat.prototype.reset = function () {
    this.store.clear();
    this.state = freshState();
    this.state.open = true;
    this.greeted = false;
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    this.hideNotice();
    this.persist();
    this.input.focus();
    if (this.config.initPayload) {
      this.greeted = true;
      this.send(this.config.initPayload, null);
    }
  };

  ClinicChat.prototype.persist = function () {
    var messages = this.state.messages;
    if (messages.length > MAX_STORED_MESSAGES) messages.splice(0, messages.length - MAX_STORED_MESSAGES);
    this.state.updated = Date.now();
    this.store.save(this.state);
  };

  ClinicChat.prototype.renderHistory = function () {
    var messages = this.state.messages;
    for (var i = 0; i < messages.length; i++) this.renderMessage(messages[i], i === messages.length - 1);
  };

  /** One message bubble; quick replies only under the latest bot message. */
  ClinicChat.prototype.renderMessage = function (message, withButtons) {
    var fromBot = message.from === "bot";
    var row = el("div", { className: "cc-row " + (fromBot ? "cc-from-bot" : "cc-from-visitor") });
    var bubble = el("div", { className: "cc-bubble" }, [
      el("span", { className: "cc-sr" }, [fromBot ? "Assistant: " : "You: "])
    ]);
    var content = el("span", { className: "cc-text" });
    var text = String(message.text || "");
    var source = fromBot ? /\n(Sources?: [^\n]*)$/.exec(text) : null; // the article an answer comes from
    if (source) text = text.slice(0, source.index);
    content.appendChild(textWithLinks(text));
    if (source) content.appendChild(el("span", { className: "cc-source" }, [source[1]]));
    bubble.appendChild(content);
    row.appendChild(bubble);
    this.log.appendChild(row);
    if (fromBot && withButtons && Array.isArray(message.buttons) && message.buttons.length) {
      this.renderButtons(message.buttons);
    }
    return row;
  };

  ClinicChat.prototype.renderButtons = function (buttons) {
    var self = this;
    this.removeButtons();
    var group = el("div", { className: "cc-quick-replies", role: "group", "aria-label": "Suggested replies" });
    buttons.forEach(function (button) {
      if (!button || typeof button.title !== "string") return;
      var payload = typeof button.payload === "string" && button.payload ? button.payload : button.title;
      var node = el("button", { type: "button", className: "cc-quick-reply" }, [button.title]);
      node.addEventListener("click", function () {
        self.send(payload, button.title);
        self.input.focus();
      });
      group.appendChild(node);
    });
    this.log.appendChild(group);
  };

  ClinicChat.prototype.removeButtons = function () {
    var groups = this.log.querySelectorAll(".cc-quick-replies");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
  };

  ClinicChat.prototype.scrollToEnd = function () {
    this.body.scrollTop = this.body.scrollHeight;
  };

  /** Shows a new answer from its start when it is taller than the panel, else scrolls to the end. */
  ClinicChat.prototype.reveal = function (row) {
    var view = this.body.getBoundingClientRect();
    var top = row.getBoundingClientRect().top - view.top;
    if (this.body.scrollHeight - (this.body.scrollTop + top) > this.body.clientHeight) {
      this.body.scrollTop += top - 8;
    } else {
      this.scrollToEnd();
    }
  };

  ClinicChat.prototype.add = function (message) {
    this.state.messages.push(message);
    this.persist();
    var row = this.renderMessage(message, true);
    this.scrollToEnd();
    return row;
  };

  /**
   * Sends `payload` to the assistant; `shown` is what the visitor's bubble says (null: no bubble,
   * for the greeting). Messages go one after the other, in order.
   */
  ClinicChat.prototype.send = function (payload, shown) {
    var self = this;
    this.hideNotice();
    this.removeButtons();
    var sender = this.state.sender; // "Start over" while this is on its way must not mix two conversations
    var message = shown === null ? null : { from: "visitor", text: shown };
    var row = message ? this.add(message) : null;
    this.pending += 1;
    this.typing.hidden = false;
    this.scrollToEnd();
    this.queue = this.queue.then(function () {
      return self.post(sender, payload).then(
        function (replies) {
          var first = null;
          if (self.state.sender !== sender) return null;
          replies.forEach(function (reply) {
            if (!reply || (typeof reply.text !== "string" && !Array.isArray(reply.buttons))) return;
            var buttons = Array.isArray(reply.buttons)
              ? reply.buttons.filter(function (b) { return b && typeof b.title === "string"; }).map(function (b) {
                  return { title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title };
                })
              : [];
            var added = self.add({ from: "bot", text: typeof reply.text === "string" ? reply.text : "", buttons: buttons });
            first = first || added;
          });
          return first;
        },
        function (problem) {
          if (self.state.sender !== sender) return null;
          if (message) self.forget(message, row);
          self.showNotice(problem, payload, shown, row);
        }
      );
    }).then(function (firstReply) {
      self.pending -= 1;
      if (!self.pending) self.typing.hidden = true;
      if (firstReply) self.reveal(firstReply);
      else self.scrollToEnd();
    });
  };

  /** POSTs one message; resolves with the list of replies, rejects with "unreachable" or "error". */
  ClinicChat.prototype.post = function (sender, message) {
    var url = this.config.server + "/webhooks/rest/webhook";
    var body = JSON.stringify({ sender: sender, message: message });
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    if (!window.fetch) return Promise.reject("unreachable");
    return window.fetch(url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: body,
      signal: controller ? controller.signal : undefined
    }).then(
      function (response) {
        if (timer) clearTimeout(timer);
        if (!response.ok) throw "error";
        return response.json().then(function (replies) {
          if (!Array.isArray(replies)) throw "error";
          return replies;
        }, function () { throw "error"; });
      },
      function () {
        if (timer) clearTimeout(timer);
        throw "unreachable"; // offline, refused, timed out, or this site's origin is not allowed (CORS)
      }
    );
  };

  /** A message that did not reach the assistant: marked on screen, left out of the stored history. */
  ClinicChat.prototype.forget = function (message, row) {
    var index = this.state.messages.indexOf(message);
    if (index >= 0) this.state.messages.splice(index, 1);
    this.persist();
    if (row) {
      row.classList.add("cc-failed");
      row.appendChild(el("span", { className: "cc-failed-label" }, ["Not sent"]));
    }
  };

  ClinicChat.prototype.showNotice = function (problem, payload, shown, row) {
    var self = this;
    var phone = this.config.phone ? " or call us at " + this.config.phone : " or call the clinic";
    var text = problem === "unreachable"
      ? "Sorry, the assistant can't be reached right now. Please check your connection and try again in a moment" + phone + "."
      : "Sorry, something went wrong on our side. Please try again in a moment" + phone + ".";
    this.hideNotice();
    var retry = el("button", { type: "button", className: "cc-text-button cc-retry" }, ["Try again"]);
    retry.addEventListener("click", function () {
      if (row && row.parentNode) row.parentNode.removeChild(row);
      self.send(payload, shown);
      self.input.focus();
    });
    this.notice.appendChild(el("p", { className: "cc-notice-text" }, [text]));
    this.notice.appendChild(retry);
    this.scrollToEnd();
  };

  /** The notice is a live region that stays in the page and is emptied, so each new text is announced. */
  ClinicChat.prototype.hideNotice = function () {
    while (this.notice.firstChild) this.notice.removeChild(this.notice.firstChild);
  };

  function start() {
    try {
      if (!document.body) return;
      window.ClinicChat = new ClinicChat(readConfig());
    } catch (error) {
      // Never break the host page; leave a trace for the site's developer.
      if (window.console && console.warn) console.warn("clinic-chat: not started:", error);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
