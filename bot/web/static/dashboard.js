// Live dashboard of a workshop (/ateliers/<token>): polls GET /api/ateliers/<token> every 3 s and
// updates the figures, the three SVG charts and the table in place (only what changed).
// Plain JS, no dependency; runs under a strict CSP (no inline code). Every text comes from the API
// (titles are typed by trainers) and is written with textContent, never parsed as HTML.
(function () {
  "use strict";

  const POLL_MS = 3000;
  const RETRY_MS = 10000;
  const ENDED_POLL_MS = 30000; // a closed or expired workshop no longer changes
  const REQUEST_TIMEOUT_MS = 8000;
  const TOKEN_PATTERN = /^[A-Za-z0-9_-]{8,200}$/;
  const NBSP = "\u00a0";
  const SVG_NS = "http://www.w3.org/2000/svg";

  // Chart geometry (SVG user units; the SVG scales to its panel's width).
  const CHART = {
    width: 380,
    padding: 4,
    row: 56,
    labelY: 21,
    barY: 28,
    barHeight: 22,
    fontSize: 19,
    bar: "#1f4e8c",
    weak: "#9a3412",
    track: "#e8edf3",
    text: "#1a1a1a",
  };

  const TEXT = {
    lost: "Connexion perdue, nouvelle tentative…",
    missing: "Atelier introuvable",
    badLink: "Lien de tableau de bord invalide",
    closeConfirm: function (title) {
      return (
        "Clore l'atelier « " + title + " » ?\n\n" +
        "Plus personne ne pourra le rejoindre et les diagnostics terminés après la clôture ne compteront pas. " +
        "Le tableau de bord et l'export CSV restent disponibles."
      );
    },
    closed: "L'atelier est clos : plus personne ne peut le rejoindre.",
    closeFailed: "L'atelier n'a pas pu être clos. Vérifiez la connexion, puis réessayez.",
    fullscreenOn: "Plein écran",
    fullscreenOff: "Quitter le plein écran",
    noResult: "Aucun résultat pour l'instant.",
  };

  const $ = function (id) {
    return document.getElementById(id);
  };

  const titleEl = $("workshop-title");
  const stateEl = $("state");
  const codeEl = $("code");
  const joinLine = $("join-line");
  const joinLink = $("join-link");
  const exportLink = $("export-link");
  const closeButton = $("close-workshop");
  const fullscreenButton = $("fullscreen");
  const connectionEl = $("connection");
  const lastUpdateEl = $("last-update");
  const actionError = $("action-error");
  const announcer = $("announcer");
  const joinedEl = $("joined");
  const finishedEl = $("finished");
  const finishedNote = $("finished-note");
  const weakestEl = $("weakest");
  const resultsTable = $("results");
  const resultsWrap = resultsTable ? resultsTable.parentNode : null;
  const resultsEmpty = $("results-empty");

  /* ------------------------------------------------------------------ helpers */

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function setAttr(node, name, value) {
    if (node && node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  function setHidden(node, hidden) {
    if (node && node.hidden !== hidden) node.hidden = hidden;
  }

  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, String(attrs[name]));
    });
    return node;
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  const decimal = (function () {
    try {
      return new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
    } catch (_) {
      return null;
    }
  })();

  function number(value) {
    return decimal ? decimal.format(value) : String(value).replace(".", ",");
  }

  function percent(value) {
    return typeof value === "number" && isFinite(value) ? number(value) + NBSP + "%" : "—";
  }

  function plural(count, one, many) {
    return count + NBSP + (count > 1 ? many : one);
  }

  function parseDate(value) {
    if (typeof value !== "string" || !value) return null;
    const date = new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }

  // « 18 h 30 », « 9 h 05 », « 18 h » (the browser's time zone).
  function clock(date) {
    const minutes = date.getMinutes();
    return date.getHours() + NBSP + "h" + (minutes ? NBSP + pad(minutes) : "");
  }

  function hhmm(date) {
    return pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  function dayName(date) {
    try {
      return new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long" })
        .formatToParts(date)
        .map(function (part) {
          return part.type === "day" && part.value === "1" ? "1er" : part.value;
        })
        .join("");
    } catch (_) {
      return date.toLocaleDateString("fr-FR");
    }
  }

  function openUntil(date, now) {
    const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
    if (sameDay(date, now)) return "Ouvert jusqu'à " + clock(date);
    if (sameDay(date, tomorrow)) return "Ouvert jusqu'à demain, " + clock(date);
    return "Ouvert jusqu'au " + dayName(date) + ", " + clock(date);
  }

  function samePath(path) {
    return typeof path === "string" && path.charAt(0) === "/" && path.charAt(1) !== "/" && path.charAt(1) !== "\\";
  }

  function absoluteUrl(path) {
    if (!samePath(path)) return null;
    try {
      const url = new URL(path, window.location.origin);
      return url.origin === window.location.origin ? url : null;
    } catch (_) {
      return null;
    }
  }

  function label(labels, group, id) {
    const names = labels && labels[group];
    if (names && typeof names[id] === "string" && names[id]) return names[id];
    return id || "Non déterminé";
  }

  function entries(object) {
    if (!object || typeof object !== "object") return [];
    return Object.keys(object).map(function (key) {
      return [key, object[key]];
    });
  }

  function count(value) {
    return typeof value === "number" && isFinite(value) && value > 0 ? Math.round(value) : 0;
  }

  /* ------------------------------------------------------------------ token */

  function readToken() {
    const parts = window.location.pathname.split("/").filter(Boolean);
    const index = parts.indexOf("ateliers");
    if (index < 0 || index + 1 >= parts.length) return null;
    let token;
    try {
      token = decodeURIComponent(parts[index + 1]);
    } catch (_) {
      return null;
    }
    return TOKEN_PATTERN.test(token) ? token : null;
  }

  const token = readToken();
  const apiUrl = token ? "/api/ateliers/" + encodeURIComponent(token) : null;
  if (token && exportLink) {
    exportLink.href = "/ateliers/" + encodeURIComponent(token) + "/export.csv";
  }

  /* ------------------------------------------------------------------ bar charts */

  // One chart: a row per item (label above a bar, value on the right). The rows are built once
  // per set of items; later updates only change the bar widths and the texts that differ.
  function barChart(svg, dataName) {
    const desc = svg ? svg.querySelector("desc") : null;
    let signature = null;
    let rows = new Map();

    function build(items) {
      Array.prototype.forEach.call(svg.querySelectorAll("g.row"), function (node) {
        node.remove();
      });
      rows = new Map();
      const height = 2 * CHART.padding + CHART.row * Math.max(items.length, 1);
      svg.setAttribute("viewBox", "0 0 " + CHART.width + " " + height);
      svg.setAttribute("width", String(CHART.width));
      svg.setAttribute("height", String(height));
      items.forEach(function (item, index) {
        const top = CHART.padding + index * CHART.row;
        const group = svgEl("g", { class: "row", "data-id": item.id });
        const name = svgEl("text", {
          class: "label", x: 0, y: top + CHART.labelY, fill: CHART.text, "font-size": CHART.fontSize,
        });
        name.textContent = item.label;
        const value = svgEl("text", {
          class: "value", x: CHART.width, y: top + CHART.labelY, fill: CHART.text,
          "font-size": CHART.fontSize, "font-weight": "700", "text-anchor": "end",
        });
        const track = svgEl("rect", {
          class: "track", x: 0, y: top + CHART.barY, width: CHART.width, height: CHART.barHeight,
          rx: 3, fill: CHART.track,
        });
        const bar = svgEl("rect", {
          class: "bar", x: 0, y: top + CHART.barY, width: 0, height: CHART.barHeight, rx: 3, fill: CHART.bar,
        });
        bar.setAttribute("data-" + dataName, item.id);
        group.append(name, value, track, bar);
        svg.appendChild(group);
        rows.set(item.id, { bar: bar, value: value, name: name, nameWidth: 0 });
      });
    }

    // A long label next to a wide value (« La co-construction territoriale » … « 12 (100 %) »):
    // the label gets a smaller font rather than running under the value.
    function fit(row) {
      try {
        if (!row.nameWidth) row.nameWidth = row.name.getComputedTextLength();
        const room = CHART.width - row.value.getComputedTextLength() - 12;
        let size = CHART.fontSize;
        if (row.nameWidth > 0 && row.nameWidth > room) {
          size = Math.max(12, Math.floor((CHART.fontSize * room) / row.nameWidth));
        }
        setAttr(row.name, "font-size", String(size));
      } catch (_) {
        /* not rendered (no layout): keep the size */
      }
    }

    return function update(items) {
      if (!svg) return;
      const next = items.map(function (item) {
        return item.id + "\u0000" + item.label;
      }).join("\u0001");
      if (next !== signature) {
        build(items);
        signature = next;
      }
      items.forEach(function (item) {
        const row = rows.get(item.id);
        const fraction = Math.max(0, Math.min(1, item.fraction || 0));
        setAttr(row.bar, "width", String(Math.round(CHART.width * fraction * 10) / 10));
        setAttr(row.bar, "fill", item.highlight ? CHART.weak : CHART.bar);
        setAttr(row.bar, "class", item.highlight ? "bar weakest" : "bar");
        setText(row.value, item.value);
        fit(row);
      });
      setText(desc, items.length ? items.map(function (item) {
        return item.label + " : " + item.spoken;
      }).join(" ; ") + "." : TEXT.noResult);
    };
  }

  const updateDoors = barChart($("doors-chart"), "door");
  const updateLevels = barChart($("levels-chart"), "level");
  const updateDimensions = barChart($("dimensions-chart"), "dimension");

  function countItems(counts, labels, group, finished) {
    return entries(counts).map(function (entry) {
      const n = count(entry[1]);
      const share = finished > 0 ? n / finished : 0;
      const pct = finished > 0 ? Math.round(share * 100) + NBSP + "%" : "";
      return {
        id: entry[0],
        label: label(labels, group, entry[0]),
        fraction: share,
        value: finished > 0 ? n + " (" + pct + ")" : "0",
        spoken: plural(n, "participant", "participants") + (finished > 0 ? ", " + pct : ""),
      };
    });
  }

  /* ------------------------------------------------------------------ results table */

  let headerSignature = null;
  const resultRows = new Map(); // participant number -> { row, signature }

  function buildHeader(dimensionIds, labels) {
    const names = ["Participant n°", "Porte", "Niveau", "Maturité"]
      .concat(dimensionIds.map(function (id) {
        return label(labels, "dimensions", id);
      }))
      .concat(["Terminé à"]);
    const signature = names.join("\u0001");
    if (signature === headerSignature) return false;
    headerSignature = signature;
    const row = document.createElement("tr");
    names.forEach(function (name, index) {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = name;
      if (index === 0 || (index >= 3 && index < names.length - 1)) cell.className = "num";
      row.appendChild(cell);
    });
    resultsTable.tHead.replaceChildren(row);
    return true;
  }

  function resultCells(result, dimensionIds, labels, now) {
    const dims = result.dimensions && typeof result.dimensions === "object" ? result.dimensions : {};
    const completed = parseDate(result.completed_at);
    let time = "—";
    if (completed) {
      time = sameDay(completed, now) ? hhmm(completed)
        : pad(completed.getDate()) + "/" + pad(completed.getMonth() + 1) + " " + hhmm(completed);
    }
    return [
      String(result.participant),
      result.door ? label(labels, "doors", result.door) : "—",
      result.level ? label(labels, "levels", result.level) : "—",
      percent(result.maturity),
    ].concat(dimensionIds.map(function (id) {
      return percent(dims[id]);
    })).concat([time, completed ? completed.toISOString() : ""]);
  }

  function buildRow(cells) {
    const row = document.createElement("tr");
    const last = cells.length - 2;
    cells.slice(0, -1).forEach(function (text, index) {
      const cell = document.createElement(index === 0 ? "th" : "td");
      if (index === 0) cell.scope = "row";
      if (index === 0 || (index >= 3 && index < last)) cell.className = "num";
      if (index === last && cells[cells.length - 1]) {
        const time = document.createElement("time");
        time.dateTime = cells[cells.length - 1];
        time.textContent = text;
        cell.appendChild(time);
      } else {
        cell.textContent = text;
      }
      row.appendChild(cell);
    });
    return row;
  }

  function updateResults(results, dimensionIds, labels) {
    if (!resultsTable) return;
    if (buildHeader(dimensionIds, labels)) {
      resultRows.clear();
      resultsTable.tBodies[0].replaceChildren();
    }
    const body = resultsTable.tBodies[0];
    const now = new Date();
    const seen = new Set();
    const ordered = [];
    (Array.isArray(results) ? results : []).forEach(function (result) {
      if (!result || typeof result !== "object") return;
      const key = String(result.participant);
      if (seen.has(key)) return;
      seen.add(key);
      const cells = resultCells(result, dimensionIds, labels, now);
      const signature = cells.join("\u0001");
      let entry = resultRows.get(key);
      if (!entry || entry.signature !== signature) {
        const row = buildRow(cells);
        if (entry) body.replaceChild(row, entry.row);
        entry = { row: row, signature: signature };
        resultRows.set(key, entry);
      }
      ordered.push(entry.row);
    });
    resultRows.forEach(function (entry, key) {
      if (!seen.has(key)) {
        entry.row.remove();
        resultRows.delete(key);
      }
    });
    ordered.forEach(function (row, index) {
      if (body.rows[index] !== row) body.insertBefore(row, body.rows[index] || null);
    });
    setHidden(resultsWrap, ordered.length === 0);
    setHidden(resultsEmpty, ordered.length > 0);
  }

  /* ------------------------------------------------------------------ rendering */

  let data = null;
  let lastFinished = null;
  let closing = false;

  function finishedPhrase(n) {
    if (n === 0) return "Aucun participant n'a terminé.";
    return n === 1 ? "1 participant a terminé." : n + " participants ont terminé.";
  }

  function announce(message) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = message;
    }, 60);
  }

  function renderState(state) {
    const now = new Date();
    const expires = parseDate(state.expires_at);
    let kind;
    let text;
    if (state.closed) {
      kind = "closed";
      text = "Clos";
    } else if (!state.open) {
      kind = "expired";
      text = "Clos (durée écoulée)";
    } else {
      kind = "open";
      text = expires ? openUntil(expires, now) : "Ouvert";
    }
    setAttr(stateEl, "data-state", kind);
    setText(stateEl, text);
    if (closeButton) closeButton.disabled = closing || kind !== "open";
  }

  function render(state) {
    data = state;
    const title = typeof state.title === "string" && state.title ? state.title : "Atelier";
    setText(titleEl, title);
    if (titleEl) titleEl.classList.toggle("is-long", title.length > 60);
    const pageTitle = title + " — tableau de bord de l'atelier";
    if (document.title !== pageTitle) document.title = pageTitle;

    setText(codeEl, typeof state.code === "string" ? state.code : "—");
    const join = absoluteUrl(state.join_url);
    if (join) {
      setAttr(joinLink, "href", join.href);
      setText(joinLink, join.host + join.pathname + join.search);
    }
    setHidden(joinLine, !join);
    if (samePath(state.export_url)) setAttr(exportLink, "href", state.export_url);

    renderState(state);

    const joined = count(state.joined);
    const finished = count(state.finished);
    setText(joinedEl, String(joined));
    setText(finishedEl, String(finished));
    setText(finishedNote, joined > 0 ? "sur " + plural(joined, "participant", "participants") : "pour l'instant");
    if (lastFinished !== null && finished !== lastFinished) announce(finishedPhrase(finished));
    lastFinished = finished;

    const labels = state.labels && typeof state.labels === "object" ? state.labels : {};
    updateDoors(countItems(state.doors, labels, "doors", finished));
    updateLevels(countItems(state.levels, labels, "levels", finished));

    const weakest = typeof state.weakest_dimension === "string" ? state.weakest_dimension : null;
    const dimensions = entries(state.dimensions);
    updateDimensions(dimensions.map(function (entry) {
      const value = typeof entry[1] === "number" && isFinite(entry[1]) ? entry[1] : null;
      return {
        id: entry[0],
        label: label(labels, "dimensions", entry[0]),
        fraction: value === null ? 0 : value / 100,
        value: percent(value),
        spoken: value === null ? "pas encore de résultat" : percent(value),
        highlight: weakest !== null && entry[0] === weakest,
      };
    }));

    renderWeakest(weakest, state.dimensions, labels);
    updateResults(state.results, dimensions.map(function (entry) {
      return entry[0];
    }), labels);
  }

  let weakestSignature = null;

  function renderWeakest(id, averages, labels) {
    if (!weakestEl) return;
    const value = id && averages && typeof averages[id] === "number" ? averages[id] : null;
    const signature = id ? id + "\u0000" + label(labels, "dimensions", id) + "\u0000" + value : "";
    if (signature === weakestSignature) return;
    weakestSignature = signature;
    if (!id) {
      weakestEl.textContent = "—";
      return;
    }
    const name = document.createElement("span");
    name.className = "weakest-label";
    name.textContent = label(labels, "dimensions", id);
    const amount = document.createElement("span");
    amount.className = "weakest-value";
    amount.textContent = percent(value);
    weakestEl.replaceChildren(name, " ", amount);
  }

  /* ------------------------------------------------------------------ polling */

  let timer = null;
  let inFlight = false;
  let sent = 0; // requests sent, and the latest one whose answer was shown: an older answer
  let shown = 0; // (a poll that crossed the closing request) must not overwrite a newer one
  let failing = false;
  let stopped = false;

  function schedule(delay) {
    window.clearTimeout(timer);
    if (!stopped) timer = window.setTimeout(tick, delay);
  }

  function request(url, options) {
    const id = ++sent;
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const watchdog = window.setTimeout(function () {
      if (controller) controller.abort();
    }, REQUEST_TIMEOUT_MS);
    const settings = Object.assign({
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    }, options || {});
    return fetch(url, settings).then(function (response) {
      window.clearTimeout(watchdog);
      if (response.status === 404) return { missing: true };
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json().then(function (body) {
        if (!body || typeof body !== "object") throw new Error("bad body");
        const stale = id < shown;
        if (!stale) shown = id;
        return { body: body, stale: stale };
      });
    }, function (error) {
      window.clearTimeout(watchdog);
      throw error;
    });
  }

  function markUpdated() {
    const now = new Date();
    setText(lastUpdateEl, "Mis à jour à " + hhmm(now) + ":" + pad(now.getSeconds()));
  }

  function lost() {
    if (!failing) {
      failing = true;
      setText(connectionEl, TEXT.lost);
    }
  }

  function recovered() {
    if (failing) {
      failing = false;
      setText(connectionEl, "");
    }
  }

  function missing() {
    stopped = true;
    window.clearTimeout(timer);
    recovered();
    setAttr(stateEl, "data-state", "missing");
    setText(stateEl, TEXT.missing);
    if (closeButton) closeButton.disabled = true;
  }

  function tick() {
    if (stopped || inFlight) return;
    // Hidden tab: no polling (resumed by the visibilitychange listener), except the first load.
    if (document.hidden && data !== null) return;
    inFlight = true;
    request(apiUrl)
      .then(function (outcome) {
        if (outcome.missing) {
          missing();
          return;
        }
        if (!outcome.stale) render(outcome.body);
        recovered();
        markUpdated();
        schedule(data && data.open && !data.closed ? POLL_MS : ENDED_POLL_MS);
      })
      .catch(function () {
        lost();
        schedule(RETRY_MS);
      })
      .then(function () {
        inFlight = false;
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stopped) schedule(0);
  });

  /* ------------------------------------------------------------------ buttons */

  if (closeButton) {
    closeButton.addEventListener("click", function () {
      if (!apiUrl || !data || closing) return;
      const title = typeof data.title === "string" ? data.title : "";
      if (!window.confirm(TEXT.closeConfirm(title))) return;
      closing = true;
      closeButton.disabled = true;
      setText(actionError, "");
      request(apiUrl + "/close", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: "{}",
      })
        .then(function (outcome) {
          closing = false;
          if (outcome.missing) {
            missing();
            return;
          }
          if (!outcome.stale) render(outcome.body);
          markUpdated();
          recovered();
          if (stateEl) stateEl.focus();
          announce(TEXT.closed);
          schedule(ENDED_POLL_MS);
        })
        .catch(function () {
          closing = false;
          if (data) renderState(data);
          setText(actionError, TEXT.closeFailed);
        });
    });
  }

  if (fullscreenButton && document.fullscreenEnabled && document.documentElement.requestFullscreen) {
    fullscreenButton.hidden = false;
    fullscreenButton.addEventListener("click", function () {
      if (document.fullscreenElement) {
        document.exitFullscreen().catch(function () {});
      } else {
        document.documentElement.requestFullscreen().catch(function () {});
      }
    });
    document.addEventListener("fullscreenchange", function () {
      setText(fullscreenButton, document.fullscreenElement ? TEXT.fullscreenOff : TEXT.fullscreenOn);
    });
  }

  /* ------------------------------------------------------------------ start */

  if (!apiUrl) {
    stopped = true;
    setAttr(stateEl, "data-state", "missing");
    setText(stateEl, TEXT.badLink);
    setText(codeEl, "—");
    return;
  }
  tick();
})();
