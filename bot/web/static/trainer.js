// Trainer's page (/ateliers): opens a workshop through POST /api/ateliers, shows its code and
// links, and keeps the workshops opened from this browser in localStorage.
// Plain JS, no dependency; runs under a strict CSP (no inline code). Text typed by trainers is only
// ever written with textContent, never parsed as HTML.
(function () {
  "use strict";

  const API_URL = "/api/ateliers";
  const STORAGE_KEY = "faire-alliance:ateliers";
  const MAX_STORED = 50;
  const DASHBOARD_PATH = /^\/ateliers\/[A-Za-z0-9_-]{8,200}$/;
  const REQUEST_TIMEOUT_MS = 20000;
  const NBSP = "\u00a0";

  const TEXT = {
    emptyTitle: "Donnez un titre à l'atelier, par exemple « Atelier Lyon, mars ».",
    tooLong: "Le titre de l'atelier est trop long : 120 caractères au plus.",
    noServer: "Le serveur ne répond pas. Vérifiez votre connexion, puis réessayez.",
    serverError: "L'atelier n'a pas pu être ouvert. Réessayez dans un instant.",
    badAnswer: "Le serveur a envoyé une réponse inattendue. Réessayez dans un instant.",
    opening: "Ouverture…",
    copiedJoin: "Lien pour les participants copié.",
    copiedDashboard: "Lien du tableau de bord copié.",
    copyFailed: "Copie automatique impossible : le lien est sélectionné, copiez-le avec Ctrl+C (⌘+C sur Mac).",
    notStored: "Ce navigateur ne peut pas garder la liste de vos ateliers : notez le lien du tableau de bord.",
  };

  const form = document.getElementById("workshop-form");
  const titleInput = document.getElementById("workshop-title");
  const hoursInput = document.getElementById("workshop-hours");
  const submitButton = document.getElementById("workshop-submit");
  const errorBox = document.getElementById("workshop-error");
  const createdPanel = document.getElementById("workshop-created");
  const createdHeading = document.getElementById("titre-cree");
  const createdTitle = document.getElementById("created-title");
  const codeEl = document.getElementById("workshop-code");
  const expiryEl = document.getElementById("workshop-expiry");
  const joinLink = document.getElementById("join-link");
  const dashboardLink = document.getElementById("dashboard-link");
  const dashboardOpen = document.getElementById("dashboard-open");
  const copyStatus = document.getElementById("copy-status");
  const list = document.getElementById("my-workshops");
  const listEmpty = document.getElementById("my-workshops-empty");
  const listStatus = document.getElementById("list-status");
  const undoButton = document.getElementById("list-undo");

  if (!form || !titleInput || !hoursInput || !list) {
    return;
  }

  /* ------------------------------------------------------------------ helpers */

  function el(tag, options, children) {
    const node = document.createElement(tag);
    const opts = options || {};
    if (opts.className) node.className = opts.className;
    if (opts.text !== undefined) node.textContent = opts.text;
    if (opts.attrs) {
      Object.keys(opts.attrs).forEach(function (name) {
        node.setAttribute(name, opts.attrs[name]);
      });
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  // « 18 h 30 », « 9 h 05 », « 18 h » (no-break spaces: the time never wraps).
  function clock(date) {
    const minutes = date.getMinutes();
    return date.getHours() + NBSP + "h" + (minutes ? NBSP + pad(minutes) : "");
  }

  function calendarDayDiff(date, now) {
    const a = new Date(date.getFullYear(), date.getMonth(), date.getDate());
    const b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((a.getTime() - b.getTime()) / 86400000);
  }

  function longDate(date, now) {
    const options = { weekday: "long", day: "numeric", month: "long" };
    if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
    try {
      return new Intl.DateTimeFormat("fr-FR", options)
        .formatToParts(date)
        .map(function (part) {
          return part.type === "day" && part.value === "1" ? "1er" : part.value;
        })
        .join("");
    } catch (_) {
      return date.toLocaleDateString("fr-FR");
    }
  }

  // « aujourd'hui à 18 h 30 », « demain à 2 h », « le jeudi 12 mars à 18 h 30 » (the browser's time zone).
  function moment(date, now) {
    const diff = calendarDayDiff(date, now);
    const at = " à " + clock(date);
    if (diff === 0) return "aujourd'hui" + at;
    if (diff === 1) return "demain" + at;
    if (diff === -1) return "hier" + at;
    return "le " + longDate(date, now) + at;
  }

  function parseDate(value) {
    if (typeof value !== "string" || !value) return null;
    const date = new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }

  function timeElement(date, text) {
    return el("time", { text: text, attrs: { datetime: date.toISOString() } });
  }

  // An absolute URL on this server for a path given by the API; null for anything else.
  function absoluteUrl(path) {
    if (typeof path !== "string" || path.charAt(0) !== "/" || path.charAt(1) === "/") return null;
    try {
      const url = new URL(path, window.location.origin);
      return url.origin === window.location.origin ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  // Live regions read a change: empty them first so that the same message is read again.
  function say(node, message) {
    if (!node) return;
    node.textContent = "";
    window.setTimeout(function () {
      node.textContent = message;
    }, 60);
  }

  /* ------------------------------------------------------------------ storage */

  function validItem(item) {
    return (
      item !== null &&
      typeof item === "object" &&
      typeof item.title === "string" &&
      typeof item.code === "string" &&
      item.code.length <= 20 &&
      typeof item.dashboard_url === "string" &&
      DASHBOARD_PATH.test(item.dashboard_url)
    );
  }

  function readStored() {
    let raw = null;
    try {
      raw = window.localStorage.getItem(STORAGE_KEY);
    } catch (_) {
      return [];
    }
    if (!raw) return [];
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch (_) {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(validItem).map(function (item) {
      return {
        title: item.title.slice(0, 200),
        code: item.code,
        dashboard_url: item.dashboard_url,
        expires_at: typeof item.expires_at === "string" ? item.expires_at : null,
      };
    });
  }

  function writeStored(items) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(items.slice(0, MAX_STORED)));
      return true;
    } catch (_) {
      return false;
    }
  }

  function remember(item) {
    const items = readStored().filter(function (other) {
      return other.dashboard_url !== item.dashboard_url;
    });
    items.unshift(item);
    return writeStored(items);
  }

  /* ------------------------------------------------------------------ the list */

  let lastRemoved = null; // { item, index } for « Annuler »

  function renderList(focusIndex) {
    const items = readStored();
    const now = new Date();
    const nodes = items.map(function (item, index) {
      const expires = parseDate(item.expires_at);
      const past = expires !== null && expires.getTime() <= now.getTime();
      const meta = el("p", {}, ["Code ", el("span", { className: "code", text: item.code })]);
      if (expires !== null) {
        meta.appendChild(document.createTextNode(past ? " · terminé " : " · fin prévue "));
        meta.appendChild(timeElement(expires, moment(expires, now)));
      }
      const link = el("a", { className: "button small", attrs: { href: item.dashboard_url } }, [
        "Tableau de bord",
        el("span", { className: "visually-hidden", text: " de « " + item.title + " »" }),
      ]);
      const remove = el("button", { className: "button danger small", attrs: { type: "button" } }, [
        "Retirer de la liste",
        el("span", { className: "visually-hidden", text: " : « " + item.title + " »" }),
      ]);
      remove.addEventListener("click", function () {
        removeItem(item.dashboard_url);
      });
      return el("li", { className: "workshop-item" + (past ? " is-past" : ""), attrs: { "data-code": item.code } }, [
        el("div", { className: "workshop-item-info" }, [el("h3", { text: item.title }), meta]),
        el("div", { className: "workshop-item-actions" }, [link, remove]),
      ]);
    });
    list.replaceChildren.apply(list, nodes);
    list.hidden = nodes.length === 0;
    if (listEmpty) listEmpty.hidden = nodes.length > 0;
    if (typeof focusIndex === "number") {
      // After a removal: the dashboard link of the item now in that place (never another « Retirer »).
      const links = list.querySelectorAll("a");
      const target = links[Math.min(focusIndex, links.length - 1)];
      if (target) {
        target.focus();
      } else if (undoButton && !undoButton.hidden) {
        undoButton.focus();
      }
    }
  }

  function removeItem(dashboardUrl) {
    const items = readStored();
    const index = items.findIndex(function (item) {
      return item.dashboard_url === dashboardUrl;
    });
    if (index < 0) return;
    const removed = items.splice(index, 1)[0];
    writeStored(items);
    lastRemoved = { item: removed, index: index };
    if (undoButton) undoButton.hidden = false;
    say(listStatus, "« " + removed.title + " » a été retiré de la liste.");
    renderList(index);
  }

  if (undoButton) {
    undoButton.addEventListener("click", function () {
      if (!lastRemoved) return;
      const items = readStored().filter(function (item) {
        return item.dashboard_url !== lastRemoved.item.dashboard_url;
      });
      items.splice(Math.min(lastRemoved.index, items.length), 0, lastRemoved.item);
      writeStored(items);
      say(listStatus, "« " + lastRemoved.item.title + " » est de nouveau dans la liste.");
      lastRemoved = null;
      undoButton.hidden = true;
      renderList();
      const first = list.querySelector("a");
      if (first) first.focus();
    });
  }

  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY || event.key === null) renderList();
  });

  /* ------------------------------------------------------------------ the form */

  let busy = false;

  function showError(message, field) {
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
    say(errorBox, message);
  }

  function clearError() {
    errorBox.textContent = "";
    titleInput.removeAttribute("aria-invalid");
  }

  titleInput.addEventListener("input", function () {
    if (titleInput.getAttribute("aria-invalid") === "true" && titleInput.value.trim()) {
      clearError();
    }
  });

  function setBusy(value) {
    busy = value;
    submitButton.disabled = value;
    submitButton.textContent = value ? TEXT.opening : "Ouvrir l'atelier";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    clearError();
    const title = titleInput.value.replace(/\s+/g, " ").trim();
    if (!title) {
      showError(TEXT.emptyTitle, titleInput);
      return;
    }
    if (title.length > 120) {
      showError(TEXT.tooLong, titleInput);
      return;
    }
    const hours = Number(hoursInput.value);
    const body = { title: title };
    if (isFinite(hours) && hours > 0) body.hours = hours;
    setBusy(true);
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = window.setTimeout(function () {
      if (controller) controller.abort();
    }, REQUEST_TIMEOUT_MS);
    fetch(API_URL, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (!response.ok) {
              const message = data && typeof data.error === "string" && data.error.trim() ? data.error : TEXT.serverError;
              showError(message);
              return;
            }
            if (!showCreated(data)) showError(TEXT.badAnswer);
          });
      })
      .catch(function () {
        showError(TEXT.noServer);
      })
      .then(function () {
        window.clearTimeout(timer);
        setBusy(false);
      });
  });

  /* ------------------------------------------------------------------ the workshop just opened */

  function showCreated(data) {
    if (!data || typeof data !== "object") return false;
    const dashboardUrl = typeof data.dashboard_url === "string" && DASHBOARD_PATH.test(data.dashboard_url) ? data.dashboard_url : null;
    const dashboardHref = absoluteUrl(dashboardUrl);
    const joinHref = absoluteUrl(data.join_url);
    if (typeof data.code !== "string" || !data.code || !dashboardHref || !joinHref) return false;
    const title = typeof data.title === "string" && data.title ? data.title : titleInput.value.trim();

    createdTitle.textContent = "« " + title + " »";
    codeEl.textContent = data.code;

    const expires = parseDate(data.expires_at);
    expiryEl.replaceChildren();
    if (expires !== null) {
      expiryEl.append("Fin de l'atelier : ", timeElement(expires, moment(expires, new Date())), ".");
      expiryEl.hidden = false;
    } else {
      expiryEl.hidden = true;
    }

    joinLink.href = joinHref;
    joinLink.textContent = joinHref;
    dashboardLink.href = dashboardHref;
    dashboardLink.textContent = dashboardHref;
    dashboardOpen.href = dashboardHref;
    copyStatus.textContent = "";

    createdPanel.hidden = false;
    createdHeading.focus();

    const stored = remember({
      title: title,
      code: data.code,
      dashboard_url: dashboardUrl,
      expires_at: typeof data.expires_at === "string" ? data.expires_at : null,
    });
    renderList();
    if (!stored) say(listStatus, TEXT.notStored);
    titleInput.value = "";
    return true;
  }

  function selectContents(node) {
    try {
      const range = document.createRange();
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    } catch (_) {
      /* nothing more to do: the message says how to copy */
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      const link = document.getElementById(button.getAttribute("data-copy"));
      if (!link) return;
      const done = link === joinLink ? TEXT.copiedJoin : TEXT.copiedDashboard;
      const fail = function () {
        selectContents(link);
        say(copyStatus, TEXT.copyFailed);
      };
      if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
        fail();
        return;
      }
      navigator.clipboard.writeText(link.href).then(function () {
        say(copyStatus, done);
      }, fail);
    });
  });

  renderList();
})();
