/*
 * "Apprendre a faire alliance" - chat widget.
 *
 * One tag on any site:
 *   <script src="https://example.org/widget.js" defer data-server="https://example.org"
 *           data-title="Faire alliance" data-color="#1d4f91" data-open="false"></script>
 *
 * Plain ES2020, no dependency, no build step. The widget lives in an open shadow root attached
 * to <div id="faire-alliance-widget">; it talks only to the configured server (Rasa REST channel
 * at `${server}/webhooks/rest/webhook`). No message content is ever parsed as HTML: every node is
 * built with createElement + textContent. Works under a strict CSP (no inline style or script).
 */
(function () {
  "use strict";

  const HOST_ID = "faire-alliance-widget";
  if (window.faireAlliance || document.getElementById(HOST_ID)) {
    return; // loaded twice: keep the first instance
  }

  /* ------------------------------------------------------------------ configuration */

  // Every non-ASCII character is written as a \u escape: the file then reads the same whatever
  // the encoding of the page that embeds it (a Latin-1 page would garble raw UTF-8 text).
  const DEFAULT_TITLE = "Apprendre \u00e0 faire alliance";
  const DEFAULT_COLOR = "#1d4f91";
  const REQUEST_TIMEOUT_MS = 30000;
  const MAX_STORED_MESSAGES = 200;
  const GREET_PAYLOAD = "/greet";
  // A workshop code in the page address (?atelier=ABC-234): the conversation joins that workshop.
  const WORKSHOP_CODE = (function () {
    let raw = null;
    try {
      raw = new URLSearchParams(window.location.search).get("atelier");
    } catch (_) {
      return null;
    }
    const code = isString(raw) ? raw.toUpperCase().replace(/[\s-]/g, "") : "";
    return /^[A-HJKMNP-Z2-9]{6}$/.test(code) ? code : null;
  })();
  // The report's « Refaire le diagnostic » (?refaire=<conversation id>): a new diagnostic, compared with that one.
  const REDO_OF = (function () {
    let raw = null;
    try {
      raw = new URLSearchParams(window.location.search).get("refaire");
    } catch (_) {
      return null;
    }
    return isString(raw) && /^[A-Za-z0-9_.:-]{1,255}$/.test(raw) ? raw : null;
  })();
  const MAX_CARDS = 5;
  const IMAGE_ALT = "Graphique du diagnostic";
  const TEXT = {
    launcher: "Ouvrir l'assistant",
    close: "Fermer la discussion",
    restart: "Recommencer",
    log: "Conversation",
    typing: "L'assistant \u00e9crit\u2026",
    label: "Votre message",
    placeholder: "\u00c9crivez votre message\u2026",
    send: "Envoyer",
    choices: "R\u00e9ponses propos\u00e9es",
    retry: "R\u00e9essayer",
    error: "Le service ne r\u00e9pond pas pour le moment. R\u00e9essayez dans un instant.",
    progress: "Progression du questionnaire",
    newTab: "s'ouvre dans un nouvel onglet",
    you: "Vous : ",
    bot: "Assistant : ",
    region: "Assistant",
    why: "Pourquoi pour vous : ",
    redo: "Refaire le diagnostic",
  };

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const dataset = (script && script.dataset) || {};

  function scriptOrigin() {
    try {
      if (script && script.src) return new URL(script.src, location.href).origin;
    } catch (_) { /* fall through */ }
    return location.origin;
  }

  function configuredServer() {
    const raw = (dataset.server || "").trim();
    if (raw) {
      try {
        const url = new URL(raw, location.href);
        if (url.protocol === "http:" || url.protocol === "https:") {
          return (url.origin + url.pathname).replace(/\/+$/, "");
        }
      } catch (_) { /* invalid: use the default */ }
    }
    return scriptOrigin();
  }

  const SERVER = configuredServer();
  const SERVER_ORIGIN = new URL(SERVER + "/").origin;
  const TITLE = (dataset.title || "").trim() || DEFAULT_TITLE;
  const COLOR = validColor(dataset.color) || DEFAULT_COLOR;
  const OPEN_AT_LOAD = dataset.open === "true";
  const STORAGE_KEY = "faire-alliance:" + SERVER;

  function validColor(value) {
    const v = (value || "").trim();
    // 3, 4, 6 or 8 hex digits (the only lengths CSS understands).
    return /^#[0-9a-fA-F]{3,8}$/.test(v) && [4, 5, 7, 9].includes(v.length) ? v : null;
  }

  /* ------------------------------------------------------------------ colour contrast */

  function rgbOf(hex) {
    let h = hex.slice(1);
    if (h.length <= 4) h = h.split("").map((c) => c + c).join("");
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function contrast(a, b) {
    const la = luminance(rgbOf(a));
    const lb = luminance(rgbOf(b));
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  // Text drawn on the brand colour: white or near-black, whichever contrasts best.
  const ON_COLOR = contrast(COLOR, "#ffffff") >= contrast(COLOR, "#111111") ? "#ffffff" : "#111111";
  // Brand colour used as text on light backgrounds (links, answer buttons), if readable there.
  const ACCENT_TEXT = contrast(COLOR, "#eef1f5") >= 4.5 ? COLOR : DEFAULT_COLOR;

  /* ------------------------------------------------------------------ ids */

  function newConversationId() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (_) { /* insecure context: fall through */ }
    }
    const bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
    }
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* ------------------------------------------------------------------ storage */

  const storage = (function () {
    let usable = true;
    return {
      load() {
        try {
          const raw = window.localStorage.getItem(STORAGE_KEY);
          return raw ? JSON.parse(raw) : null;
        } catch (_) {
          usable = false;
          return null;
        }
      },
      save(value) {
        if (!usable) return;
        try {
          window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
        } catch (_) {
          // Quota exceeded (very long messages): keep a shorter history, else work in memory.
          try {
            const shorter = Object.assign({}, value, { messages: value.messages.slice(-20) });
            window.localStorage.setItem(STORAGE_KEY, JSON.stringify(shorter));
          } catch (__) {
            usable = false;
          }
        }
      },
      clear() {
        if (!usable) return;
        try { window.localStorage.removeItem(STORAGE_KEY); } catch (_) { usable = false; }
      },
    };
  })();

  function isString(v) {
    return typeof v === "string";
  }

  function cleanButtons(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter((b) => b && (isString(b.title) || isString(b.payload)))
      .map((b) => {
        const title = isString(b.title) && b.title.trim() ? b.title : String(b.payload);
        const payload = isString(b.payload) && b.payload ? b.payload : title;
        return { title, payload };
      });
  }

  function cleanProgress(p) {
    if (!p || typeof p !== "object") return null;
    const position = Number(p.position);
    const total = Number(p.total);
    if (!Number.isInteger(position) || !Number.isInteger(total)) return null;
    if (total <= 0 || position < 0 || position > total) return null;
    return { position, total };
  }

  // Recommendation cards (tools, examples) sent as {"custom": {"cards": {"title", "items": [...]}}}: only
  // strings are kept, and they are shown as text.
  function cleanCards(cards) {
    if (!cards || typeof cards !== "object" || !Array.isArray(cards.items)) return null;
    const field = (item, name) => (isString(item[name]) ? item[name].slice(0, 600) : "");
    const items = cards.items
      .filter((item) => item && typeof item === "object" && isString(item.name) && item.name)
      .slice(0, MAX_CARDS)
      .map((item) => ({
        name: field(item, "name"), description: field(item, "description"), reason: field(item, "reason"),
        source: field(item, "source"), url: field(item, "url"),
      }));
    return items.length ? { title: isString(cards.title) ? cards.title.slice(0, 120) : "", items } : null;
  }

  function cleanMessage(m) {
    if (!m || (m.from !== "user" && m.from !== "bot")) return null;
    const out = { from: m.from };
    if (isString(m.text)) out.text = m.text;
    if (m.from === "bot") {
      const buttons = cleanButtons(m.buttons);
      if (buttons.length) out.buttons = buttons;
      if (isString(m.image) && safeImageUrl(m.image)) out.image = m.image;
      const cards = cleanCards(m.cards);
      if (cards) out.cards = cards;
    }
    return out.text !== undefined || out.buttons || out.image || out.cards ? out : null;
  }

  function loadState() {
    const raw = storage.load();
    const fresh = { conversationId: newConversationId(), messages: [], progress: null, open: null, workshop: null };
    if (!raw || typeof raw !== "object" || !isString(raw.conversationId) || !raw.conversationId) {
      return fresh;
    }
    const messages = Array.isArray(raw.messages) ? raw.messages.map(cleanMessage).filter(Boolean) : [];
    return {
      conversationId: raw.conversationId.slice(0, 255),
      messages: messages.slice(-MAX_STORED_MESSAGES),
      progress: cleanProgress(raw.progress),
      open: typeof raw.open === "boolean" ? raw.open : null,
      workshop: isString(raw.workshop) ? raw.workshop.slice(0, 6) : null,
    };
  }

  const state = loadState();

  function persist() {
    if (state.messages.length > MAX_STORED_MESSAGES) {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    }
    storage.save({
      conversationId: state.conversationId,
      messages: state.messages,
      progress: state.progress,
      open: Boolean(state.open),
      workshop: state.workshop,
    });
  }

  /* ------------------------------------------------------------------ URLs */

  function resolveUrl(url) {
    // Returns an absolute http(s) URL string, or null if the URL is not allowed.
    if (!isString(url)) return null;
    const u = url.trim();
    try {
      if (/^https?:\/\//i.test(u)) {
        const abs = new URL(u);
        return abs.protocol === "http:" || abs.protocol === "https:" ? abs.href : null;
      }
      if (u.startsWith("/") && !u.startsWith("//") && !u.startsWith("/\\")) {
        const abs = new URL(SERVER + u);
        return abs.origin === SERVER_ORIGIN ? abs.href : null;
      }
    } catch (_) { /* not a URL */ }
    return null;
  }

  function safeImageUrl(url) {
    const abs = resolveUrl(url);
    if (!abs) return null;
    return new URL(abs).origin === SERVER_ORIGIN ? abs : null;
  }

  /* ------------------------------------------------------------------ DOM helpers */

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "className") node.className = value;
        else if (key === "text") node.textContent = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    if (children) {
      for (const child of children) if (child) node.appendChild(child);
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  function icon(paths, className) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (className) svg.setAttribute("class", className);
    for (const d of paths) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    }
    return svg;
  }

  const ICON_CHAT = [
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  ];
  const ICON_DOWN = ["M6 9l6 6 6-6"];
  const ICON_CLOSE = ["M6 6l12 12", "M18 6L6 18"];

  /* ------------------------------------------------------------------ safe mini-markdown */

  const LINK_RE = /\[([^\]\n]{1,500})\]\(([^()\s]{1,2000})\)/y;
  const URL_RE = /https?:\/\/[^\s<>"'`]+/iy;
  const TRAILING_PUNCT = /[.,;:!?\u00bb)\]'"]+$/;

  function isWordChar(ch) {
    return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
  }

  function isSpace(ch) {
    return ch === undefined || /\s/.test(ch);
  }

  function makeLink(href, label, parent) {
    const a = el("a", { href, target: "_blank", rel: "noopener noreferrer", "aria-describedby": "fa-newtab" });
    renderInline(label, a, false);
    parent.appendChild(a);
  }

  // Finds the closing delimiter of an emphasis opened at `start` with `mark` ("*" or "_").
  function closingEmphasis(s, start, mark) {
    let j = s.indexOf(mark, start + 2);
    while (j !== -1) {
      const before = s[j - 1];
      const after = s[j + 1];
      const doubled = mark === "*" && after === "*";
      if (!isSpace(before) && !doubled && !isWordChar(after)) return j;
      j = s.indexOf(mark, j + (doubled ? 2 : 1));
    }
    return -1;
  }

  function renderInline(s, parent, allowLinks) {
    let buffer = "";
    let noDoubleStar = false;
    const flush = () => {
      if (buffer) parent.appendChild(document.createTextNode(buffer));
      buffer = "";
    };
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (allowLinks && c === "[") {
        LINK_RE.lastIndex = i;
        const m = LINK_RE.exec(s);
        if (m) {
          const href = resolveUrl(m[2]);
          if (href) {
            flush();
            makeLink(href, m[1], parent);
            i += m[0].length;
            continue;
          }
        }
      }
      if (allowLinks && (c === "h" || c === "H") && !isWordChar(s[i - 1])) {
        URL_RE.lastIndex = i;
        const m = URL_RE.exec(s);
        if (m) {
          const raw = m[0].replace(TRAILING_PUNCT, "");
          const href = raw.length > 8 ? resolveUrl(raw) : null;
          if (href) {
            flush();
            const a = el("a", { href, target: "_blank", rel: "noopener noreferrer", "aria-describedby": "fa-newtab", text: raw });
            parent.appendChild(a);
            i += raw.length;
            continue;
          }
        }
      }
      if (c === "*" && s[i + 1] === "*" && !noDoubleStar && !isSpace(s[i + 2])) {
        let end = s.indexOf("**", i + 2);
        while (end !== -1 && isSpace(s[end - 1])) end = s.indexOf("**", end + 1);
        if (end === -1) {
          noDoubleStar = true;
        } else {
          flush();
          const strong = el("strong");
          renderInline(s.slice(i + 2, end), strong, allowLinks);
          parent.appendChild(strong);
          i = end + 2;
          continue;
        }
      }
      // Emphasis only at word boundaries: "snake_case" and "2*3*4" stay as they are.
      if ((c === "*" || c === "_") && s[i + 1] !== c && !isSpace(s[i + 1]) && !isWordChar(s[i - 1])) {
        const end = closingEmphasis(s, i, c);
        if (end !== -1) {
          flush();
          const em = el("em");
          renderInline(s.slice(i + 1, end), em, allowLinks);
          parent.appendChild(em);
          i = end + 1;
          continue;
        }
      }
      buffer += c;
      i += 1;
    }
    flush();
  }

  const BULLET_RE = /^\s*[-\u2022]\s+(.*)$/;
  const ORDERED_RE = /^\s*(\d{1,3})[.)]\s+(.*)$/;

  function renderRichText(text, container) {
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    let list = null;
    let listKind = null;
    for (const line of lines) {
      const bullet = BULLET_RE.exec(line);
      const ordered = bullet ? null : ORDERED_RE.exec(line);
      if (bullet || ordered) {
        const kind = bullet ? "ul" : "ol";
        if (!list || listKind !== kind) {
          list = el(kind);
          listKind = kind;
          if (ordered && ordered[1] !== "1") list.setAttribute("start", String(parseInt(ordered[1], 10)));
          container.appendChild(list);
        }
        const li = el("li");
        renderInline(bullet ? bullet[1] : ordered[2], li, true);
        list.appendChild(li);
        continue;
      }
      list = null;
      listKind = null;
      if (!line.trim()) continue;
      const p = el("p");
      renderInline(line, p, true);
      container.appendChild(p);
    }
  }

  /* ------------------------------------------------------------------ build the widget */

  const host = el("div", { id: HOST_ID });
  host.style.setProperty("--fa-color", COLOR);
  host.style.setProperty("--fa-on-color", ON_COLOR);
  host.style.setProperty("--fa-accent-text", ACCENT_TEXT);
  // Hidden until its stylesheet is there (no flash of unstyled content).
  host.style.setProperty("display", "none");

  const shadow = host.attachShadow({ mode: "open" });
  const stylesheet = el("link", { rel: "stylesheet", href: SERVER + "/widget.css" });
  const reveal = () => host.style.removeProperty("display");
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  setTimeout(reveal, 4000);
  shadow.appendChild(stylesheet);

  const launcher = el("button", {
    type: "button",
    className: "fa-launcher",
    "aria-label": TEXT.launcher,
    "aria-expanded": "false",
    "aria-controls": "fa-panel",
  }, [icon(ICON_CHAT, "fa-icon fa-icon-open"), icon(ICON_DOWN, "fa-icon fa-icon-close")]);

  const title = el("h2", { className: "fa-title", id: "fa-title", text: TITLE });
  const restartButton = el("button", { type: "button", className: "fa-restart", text: TEXT.restart });
  const closeButton = el("button", {
    type: "button",
    className: "fa-close",
    "aria-label": TEXT.close,
  }, [icon(ICON_CLOSE, "fa-icon")]);
  const header = el("div", { className: "fa-header" }, [
    title, el("div", { className: "fa-header-actions" }, [restartButton, closeButton]),
  ]);

  const progressText = el("span", { className: "fa-progress-text" });
  const progressFill = el("span", { className: "fa-progress-fill" });
  const progress = el("div", {
    className: "fa-progress",
    role: "progressbar",
    "aria-label": TEXT.progress,
    "aria-valuemin": "0",
    hidden: true,
  }, [progressText, el("span", { className: "fa-progress-track" }, [progressFill])]);

  const log = el("div", {
    className: "fa-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": TEXT.log,
    tabindex: "0",
  });

  const typing = el("div", { className: "fa-typing", role: "status", "data-active": "false" });

  const input = el("textarea", {
    id: "fa-input",
    className: "fa-input",
    rows: "1",
    placeholder: TEXT.placeholder,
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const sendButton = el("button", { type: "submit", className: "fa-send", text: TEXT.send });
  const form = el("form", { className: "fa-form", novalidate: true }, [
    el("label", { for: "fa-input", className: "fa-sr-only", text: TEXT.label }),
    input,
    sendButton,
  ]);

  const panel = el("div", {
    id: "fa-panel",
    className: "fa-panel",
    role: "dialog",
    "aria-modal": "false",
    "aria-label": TITLE,
    hidden: true,
  }, [header, progress, log, typing, form]);

  const newTabDescription = el("span", { id: "fa-newtab", className: "fa-sr-only", text: TEXT.newTab });

  const root = el("div", {
    className: "fa-root",
    role: "complementary",
    "aria-label": TEXT.region + " : " + TITLE,
  }, [launcher, panel, newTabDescription]); // the toggle comes before what it controls
  shadow.appendChild(root);

  /* ------------------------------------------------------------------ rendering */

  function focusIsInWidget() {
    return Boolean(shadow.activeElement) || document.activeElement === document.body ||
      document.activeElement === null;
  }

  // First message of the latest reply: a reply taller than the log is shown from its top.
  let replyStart = null;

  function scrollToNewest() {
    const bottom = log.scrollHeight - log.clientHeight;
    let target = bottom;
    if (replyStart && replyStart.isConnected) target = Math.min(bottom, replyStart.offsetTop - 8);
    log.scrollTop = Math.max(0, target);
  }

  function renderButtons(buttons) {
    const group = el("div", { className: "fa-choices", role: "group", "aria-label": TEXT.choices });
    for (const b of buttons) {
      const button = el("button", { type: "button", className: "fa-choice", text: b.title });
      button.addEventListener("click", () => {
        sendUserMessage({ text: b.title, payload: b.payload, via: "button" });
      });
      group.appendChild(button);
    }
    return group;
  }

  function renderMessage(message) {
    const bot = message.from === "bot";
    const node = el("div", { className: "fa-msg " + (bot ? "fa-msg--bot" : "fa-msg--user") });
    node.appendChild(el("span", { className: "fa-sr-only", text: bot ? TEXT.bot : TEXT.you }));
    if (isString(message.text) && message.text !== "") {
      const bubble = el("div", { className: "fa-bubble" });
      if (bot) renderRichText(message.text, bubble);
      else bubble.textContent = message.text;
      node.appendChild(bubble);
    }
    if (bot && message.image) {
      const src = safeImageUrl(message.image);
      if (src) {
        const img = el("img", { className: "fa-image", src, alt: IMAGE_ALT });
        img.addEventListener("load", scrollToNewest);
        node.appendChild(el("div", { className: "fa-bubble fa-bubble--image" }, [img]));
      }
    }
    if (bot && message.cards) node.appendChild(renderCards(message.cards));
    if (bot && message.buttons && message.buttons.length) {
      node.appendChild(renderButtons(message.buttons));
    }
    log.appendChild(node);
    return node;
  }

  function renderCards(cards) {
    const list = el("ul", { className: "fa-cards" });
    for (const item of cards.items) {
      const href = resolveUrl(item.url);
      const name = href
        ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: item.name })
        : el("span", { text: item.name });
      if (href) name.appendChild(el("span", { className: "fa-sr-only", text: " (" + TEXT.newTab + ")" }));
      const card = el("li", { className: "fa-card" }, [el("p", { className: "fa-card-name" }, [name])]);
      if (item.description) card.appendChild(el("p", { className: "fa-card-description", text: item.description }));
      if (item.reason) {
        card.appendChild(el("p", { className: "fa-card-reason" }, [
          el("strong", { text: TEXT.why }), document.createTextNode(item.reason),
        ]));
      }
      if (item.source) card.appendChild(el("p", { className: "fa-card-source", text: item.source }));
      list.appendChild(card);
    }
    const children = [];
    if (cards.title) children.push(el("p", { className: "fa-cards-title", text: cards.title }));
    children.push(list);
    return el("div", { className: "fa-bubble fa-bubble--cards" }, children);
  }

  function renderProgress() {
    const p = state.progress;
    if (!p) {
      progress.hidden = true;
      progress.removeAttribute("aria-valuenow");
      progress.removeAttribute("aria-valuetext");
      return;
    }
    progress.setAttribute("aria-valuemax", String(p.total));
    progress.setAttribute("aria-valuenow", String(p.position));
    progress.setAttribute("aria-valuetext", "Question " + p.position + " sur " + p.total);
    progressText.textContent = "Question " + p.position + " / " + p.total;
    progressFill.style.setProperty("width", ((100 * p.position) / p.total).toFixed(2) + "%");
    progress.hidden = false;
  }

  function renderAll() {
    replyStart = null;
    log.replaceChildren();
    for (const message of state.messages) renderMessage(message);
    renderProgress();
  }

  let typingCount = 0;

  function setTyping(delta) {
    typingCount = Math.max(0, typingCount + delta);
    const active = typingCount > 0;
    if (active === (typing.dataset.active === "true")) return;
    typing.dataset.active = String(active);
    if (active) {
      typing.replaceChildren(
        el("span", { className: "fa-dots", "aria-hidden": "true" }, [
          el("span", { className: "fa-dot" }), el("span", { className: "fa-dot" }), el("span", { className: "fa-dot" }),
        ]),
        el("span", { className: "fa-sr-only", text: TEXT.typing }),
      );
    } else {
      typing.replaceChildren();
    }
  }

  function addMessage(message) {
    state.messages.push(message);
    persist();
    return renderMessage(message);
  }

  /* ------------------------------------------------------------------ channel */

  let epoch = 0; // bumped by restart(): late replies of the old conversation are dropped
  let queue = Promise.resolve();
  let lastAction = "text";

  async function post(message, conversationId) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(SERVER + "/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        // The widget draws the result's cards; other clients get them as text.
        body: JSON.stringify({ sender: conversationId, message, metadata: { client: "widget" } }),
        signal: controller.signal,
        credentials: "omit",
      });
      // 429: the server answers as the bot would (« patientez quelques secondes »): show it.
      if (!response.ok && response.status !== 429) throw new Error("HTTP " + response.status);
      const data = await response.json();
      return Array.isArray(data) ? data : [];
    } finally {
      clearTimeout(timer);
    }
  }

  function handleReplies(replies) {
    const added = [];
    let erased = false;
    for (const reply of replies) {
      if (!reply || typeof reply !== "object") continue;
      const custom = reply.custom;
      if (custom && typeof custom === "object" && custom.erased === true) erased = true;
      if (custom && typeof custom === "object" && Object.prototype.hasOwnProperty.call(custom, "progress")) {
        state.progress = custom.progress === null ? null : cleanProgress(custom.progress) || state.progress;
        renderProgress();
        persist();
      }
      const message = { from: "bot" };
      if (isString(reply.text)) message.text = reply.text;
      const buttons = cleanButtons(reply.buttons);
      if (buttons.length) message.buttons = buttons;
      if (isString(reply.image) && safeImageUrl(reply.image)) message.image = reply.image;
      const cards = custom && typeof custom === "object" ? cleanCards(custom.cards) : null;
      if (cards) message.cards = cards;
      if (message.text !== undefined || message.buttons || message.image || message.cards) {
        added.push(addMessage(message));
      }
    }
    if (erased) {
      forgetConversation();
      scrollToNewest();
      return;
    }
    if (!added.length) return;
    replyStart = added[0];
    scrollToNewest();
    if (panel.hidden || !focusIsInWidget()) return;
    const firstNewButton = added.map((n) => n.querySelector(".fa-choice")).find(Boolean);
    if (lastAction === "button" && firstNewButton) {
      firstNewButton.focus();
    } else if (lastAction === "text" && (!shadow.activeElement || shadow.activeElement === sendButton)) {
      input.focus({ preventScroll: true });
    }
  }

  function showError(message) {
    const retry = el("button", { type: "button", className: "fa-choice fa-retry", text: TEXT.retry });
    const notice = el("div", { className: "fa-msg fa-msg--bot fa-msg--error" }, [
      el("span", { className: "fa-sr-only", text: TEXT.bot }),
      el("div", { className: "fa-bubble" }, [el("p", { text: TEXT.error })]),
      el("div", { className: "fa-choices" }, [retry]),
    ]);
    retry.addEventListener("click", () => {
      const refocus = shadow.activeElement === retry;
      notice.remove();
      if (refocus) input.focus();
      deliver(message);
    });
    log.appendChild(notice);
    replyStart = null;
    scrollToNewest();
  }

  // « supprimer mes données » done: the server has erased this conversation; the browser forgets it too,
  // keeping only the confirmation on screen, and the next message starts a new conversation.
  function forgetConversation() {
    storage.clear();
    state.conversationId = newConversationId();
    state.messages = state.messages.slice(-1);
    state.progress = null;
    state.workshop = null;
    renderAll();
    persist();
  }

  // Sends one message (text or payload) to the bot, in order, after the previous ones.
  function deliver(message) {
    const myEpoch = epoch;
    const conversationId = state.conversationId;
    queue = queue.then(async () => {
      if (myEpoch !== epoch) return;
      setTyping(1);
      scrollToNewest(); // the indicator takes room under the log: keep the newest message in view
      let replies = null;
      try {
        replies = await post(message, conversationId);
      } catch (_) {
        replies = null;
      }
      if (myEpoch !== epoch) return; // restarted meanwhile: the typing state was reset
      setTyping(-1);
      if (replies === null) showError(message);
      else handleReplies(replies);
    }).catch(() => { /* never block the next messages */ });
    return queue;
  }

  function sendUserMessage({ text, payload, via }) {
    lastAction = via;
    replyStart = null;
    addMessage({ from: "user", text });
    scrollToNewest();
    return deliver(payload !== undefined ? payload : text);
  }

  let greeting = false;

  function greet() {
    if (greeting) return;
    greeting = true;
    lastAction = "system";
    const myEpoch = epoch;
    deliver(GREET_PAYLOAD).then(() => {
      if (myEpoch === epoch) greeting = false;
    });
  }

  // Joins the workshop of the page address once per conversation; the bot confirms and starts the diagnostic.
  function joinWorkshop() {
    if (!WORKSHOP_CODE || state.workshop === WORKSHOP_CODE) return false;
    state.workshop = WORKSHOP_CODE;
    persist();
    lastAction = "system";
    deliver('/join_workshop{"workshop_code": "' + WORKSHOP_CODE + '"}');
    return true;
  }

  // Once per page: a new diagnostic in this conversation, compared with the one of the report it came from.
  let redone = false;

  function redoFromReport() {
    if (!REDO_OF || redone) return false;
    redone = true;
    const payload = "/restart_diagnostic" + JSON.stringify({ previous_conversation: REDO_OF });
    sendUserMessage({ text: TEXT.redo, payload, via: "system" });
    return true;
  }

  /* ------------------------------------------------------------------ open / close / restart */

  function open(options) {
    const focus = !options || options.focus !== false;
    panel.hidden = false;
    root.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    persist();
    scrollToNewest();
    if (focus) input.focus();
    if (joinWorkshop() || redoFromReport()) return;
    if (!state.messages.length) greet();
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    persist();
  }

  function restart() {
    epoch += 1;
    queue = Promise.resolve();
    greeting = false;
    typingCount = 0;
    typing.dataset.active = "false";
    typing.replaceChildren();
    storage.clear();
    state.conversationId = newConversationId();
    state.messages = [];
    state.progress = null;
    state.workshop = null;
    renderAll();
    persist();
    if (!joinWorkshop()) greet();
  }

  /* ------------------------------------------------------------------ events */

  launcher.addEventListener("click", () => {
    if (panel.hidden) open();
    else close();
  });

  closeButton.addEventListener("click", () => {
    close();
    launcher.focus();
  });

  restartButton.addEventListener("click", () => {
    restart();
    input.focus();
  });

  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing && !panel.hidden) {
      event.preventDefault();
      close();
      launcher.focus();
    }
  });

  function autosize() {
    input.style.setProperty("height", "auto");
    input.style.setProperty("height", Math.min(input.scrollHeight + 2, 160) + "px");
  }

  input.addEventListener("input", autosize);

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = "";
    autosize();
    input.focus();
    sendUserMessage({ text, via: "text" });
  });

  /* ------------------------------------------------------------------ start */

  renderAll();
  window.faireAlliance = Object.freeze({
    conversationId: () => state.conversationId,
    open: () => open(),
    close: () => close(),
    restart: () => restart(),
  });

  function mount() {
    document.body.appendChild(host);
    const shouldOpen = (WORKSHOP_CODE !== null && state.workshop !== WORKSHOP_CODE) || REDO_OF !== null
      ? true
      : state.open === null ? OPEN_AT_LOAD : state.open;
    if (shouldOpen) open({ focus: false });
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
