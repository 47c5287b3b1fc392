// boundaryline review page: plain JavaScript, no framework, nothing loaded from elsewhere.
// Message text goes only into POST bodies (never a URL); inbox files are read here and never uploaded.
"use strict";

const KEY_STORE = "boundaryline.apiKey"; // sessionStorage: this tab only, gone when it closes
const VEIL_STORE = "boundaryline.veilFlagged"; // localStorage: a reading preference, no message in it
const PAGE_ROWS = 100; // rows of the messages table drawn at once; sorting and filtering see them all
const LEVELS = 5; // steps of highlight strength
const LABELS = ["professional", "pestering", "inappropriate_proposition"];
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

const pretty = (label) => label.replaceAll("_", " ");
const signed = (x, digits = 3) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits);

function setStatus(node, message, isError = false) {
  node.textContent = message;
  node.classList.toggle("error", isError);
}

async function requestJSON(method, url, body, headers = {}) {
  const options = { method, headers: { ...headers } };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

const postJSON = (url, body, headers = {}) => requestJSON("POST", url, body, headers);

function errorText(result) {
  const detail = result.data && result.data.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return `HTTP ${result.status}`;
}

// ---------------------------------------------------------------- views (one visible at a time)

function showView() {
  const views = [...document.querySelectorAll(".view")];
  const target = location.hash ? document.querySelector(location.hash.replace(/[^#\w-]/g, "")) : null;
  const view = (target && target.closest(".view")) || views[0];
  for (const v of views) v.hidden = v !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${view.id}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (view.id === "corrections") loadCorrections();
}

// ---------------------------------------------------------------- the API key (one per tab, for every view)

const apiKey = () => sessionStorage.getItem(KEY_STORE);

function showForgetButtons() {
  for (const id of ["forget-key", "review-forget-key"]) $(id).hidden = !apiKey();
}

function rememberKey(key) {
  sessionStorage.setItem(KEY_STORE, key);
  showForgetButtons();
}

function forgetKey() {
  sessionStorage.removeItem(KEY_STORE);
  showForgetButtons();
}

// ---------------------------------------------------------------- check a message

const check = {
  text: null, // the text last checked: what a correction sends
  channel: null,
  result: null,
  highlightedFor: null, // "label" the highlight shows, so a slider move re-fetches only when it changes
  serial: 0,
  checkId: null,
};

function pageThresholds() {
  const out = {};
  for (const row of document.querySelectorAll(".threshold")) {
    const label = row.dataset.label;
    if ($(`th-on-${label}`).checked) out[label] = Number($(`th-${label}`).value);
  }
  return out;
}

function syncSlider(label) {
  const on = $(`th-on-${label}`).checked;
  const slider = $(`th-${label}`);
  slider.disabled = !on;
  $(`th-out-${label}`).textContent = on ? Number(slider.value).toFixed(2) : "arg-max";
}

function resetThresholds() {
  const inForce = JSON.parse($("check").dataset.thresholds || "{}");
  for (const row of document.querySelectorAll(".threshold")) {
    const label = row.dataset.label;
    const has = Object.hasOwn(inForce, label);
    $(`th-on-${label}`).checked = has;
    if (has) $(`th-${label}`).value = String(inForce[label]);
    syncSlider(label);
  }
}

function describeThresholds(thresholds) {
  const entries = Object.entries(thresholds || {});
  if (!entries.length) return "none (arg-max: the most probable label)";
  return entries.map(([label, t]) => `${pretty(label)} ${Number(t).toFixed(2)}`).join(", ");
}

function renderBars(container, scores, thresholds) {
  container.replaceChildren();
  for (const label of LABELS.filter((l) => l in scores)) {
    const p = scores[label];
    const fill = el("span", { class: `bar-fill ${label}` });
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    const track = el("span", { class: "bar-track", "aria-hidden": "true" }, fill);
    if (thresholds && thresholds[label] !== undefined) {
      const tick = el("span", { class: "bar-tick", title: `threshold ${thresholds[label]}` });
      tick.style.left = `${(100 * thresholds[label]).toFixed(1)}%`;
      track.append(tick);
    }
    const row = el(
      "div",
      { class: "bar", "data-label": label },
      el("span", { class: "bar-name", text: pretty(label) }),
      track,
      el("span", { class: "bar-value", text: p.toFixed(3) }),
    );
    container.append(row);
  }
}

// Which rule gave the label, as boundaryline.decision.decide applies it: a concern label reaches its threshold,
// or without one is the most probable; when no concern qualifies the message is professional.
function whyVerdict(data) {
  const scores = data.scores || {};
  const thresholds = data.thresholds || {};
  const concerns = LABELS.filter((l) => l !== "professional" && l in scores);
  const p = (label) => Number(scores[label] ?? 0).toFixed(3);
  const best = LABELS.filter((l) => l in scores).reduce((a, b) => (scores[b] > scores[a] ? b : a), "professional");
  if (data.label !== "professional") {
    const t = thresholds[data.label];
    if (t !== undefined) {
      return `Decided by the ${pretty(data.label)} threshold: ${p(data.label)} reaches ${Number(t).toFixed(2)}.`;
    }
    return `Decided without a threshold for ${pretty(data.label)}: at ${p(data.label)} it is the most probable label.`;
  }
  const parts = concerns.map((label) => {
    const t = thresholds[label];
    if (t !== undefined) return `${pretty(label)} ${p(label)} is under its threshold ${Number(t).toFixed(2)}`;
    return best === label
      ? `${pretty(label)} ${p(label)} has no threshold and does not beat professional`
      : `${pretty(label)} ${p(label)} has no threshold and is not the most probable`;
  });
  return `Professional: no concern label qualifies (${parts.join("; ")}).`;
}

function level(weight, largest) {
  if (!largest || Math.abs(weight) < 0.05 * largest) return 0;
  return Math.min(LEVELS, Math.ceil((LEVELS * Math.abs(weight)) / largest));
}

function renderHighlight(data) {
  const box = $("highlighted-text");
  box.replaceChildren();
  const weights = data.segments.filter((s) => s.weight !== null).map((s) => Math.abs(s.weight));
  const largest = Math.max(0, ...weights);
  for (const segment of data.segments) {
    if (segment.weight === null) {
      box.append(segment.text);
      continue;
    }
    const step = level(segment.weight, largest);
    const tip = `${signed(segment.weight)} ${segment.weight >= 0 ? "towards" : "against"} ${pretty(data.label)}`;
    if (!step) {
      box.append(el("span", { class: "w0", title: tip, text: segment.text }));
      continue;
    }
    const direction = segment.weight > 0 ? "pos" : "neg";
    box.append(
      el("span", {
        class: `w w-${direction}-${step}`,
        tabindex: "0",
        role: "mark",
        title: tip,
        "data-tip": tip,
        "data-weight": String(segment.weight),
        "aria-label": `${segment.text}: ${tip}`,
        text: segment.text,
      }),
    );
  }
  $("legend-scale").textContent = largest
    ? `the largest push in this message is ${largest.toFixed(2)}; each of the ${LEVELS} steps is about ${(largest / LEVELS).toFixed(2)}`
    : "no word has a push";
  const words = data.segments.reduce((sum, s) => sum + (s.weight || 0), 0) + data.unplaced;
  $("highlight-sum").textContent =
    `Decision value for ${pretty(data.label)}: ${data.decision.toFixed(3)} = intercept ${signed(data.intercept)} ` +
    `+ the words ${signed(words)} (every term's push is shared among the words of the n-gram it came from).`;
  check.highlightedFor = data.label;
}

function renderResult(data) {
  $("result").hidden = false;
  const tag = $("result-label");
  tag.textContent = pretty(data.label);
  tag.className = `label-tag ${data.label}`;
  tag.dataset.label = data.label;
  $("result-flag").textContent = data.flagged ? "(flagged)" : "(not flagged)";
  $("result-why").textContent = whyVerdict(data);
  renderBars($("result-bars"), data.scores, data.thresholds);
  const decider = $("result-bars").querySelector(`.bar[data-label="${data.label}"]`);
  if (decider) decider.classList.add("decided");
  $("result-thresholds").textContent = describeThresholds(data.thresholds);
  $("result-version").textContent = data.model_version;
  const terms = $("result-terms");
  terms.replaceChildren(
    ...(data.explanation || []).map((t) => el("li", { text: `${t.term} (${signed(t.weight, 2)})` })),
  );
}

async function scoreCurrent() {
  if (check.text === null) return;
  const serial = ++check.serial;
  const status = $("check-status");
  setStatus(status, "Checking…");
  const scored = await postJSON("/v1/score", { text: check.text, explain: true, thresholds: pageThresholds() });
  if (serial !== check.serial) return; // a newer request is on its way
  if (!scored.ok) {
    setStatus(status, `Could not check it: ${errorText(scored)}`, true);
    return;
  }
  check.result = scored.data;
  renderResult(scored.data);
  if (check.highlightedFor !== scored.data.label) {
    const laid = await postJSON("/web/highlight", { text: check.text, label: scored.data.label });
    if (serial !== check.serial) return;
    if (!laid.ok) {
      setStatus(status, `Could not highlight it: ${errorText(laid)}`, true);
      return;
    }
    renderHighlight(laid.data);
  }
  setStatus(status, `Checked: ${pretty(scored.data.label)}.`);
}

function newCheckId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

async function onCheck(event) {
  event.preventDefault();
  const text = $("message-text").value;
  countChars();
  if (!text.trim()) {
    setStatus($("check-status"), "Type or paste a message first.", true);
    $("message-text").focus();
    return;
  }
  check.text = text;
  check.channel = $("message-channel").value || null;
  check.highlightedFor = null;
  check.checkId = newCheckId();
  setStatus($("correct-status"), "");
  await scoreCurrent();
}

// The service's limit (BOUNDARYLINE_MAX_TEXT_CHARS) beside the box; a longer text is still sent, so the
// service's own 413/422 answer says what is wrong, rather than the box cutting it silently.
function countChars() {
  const box = $("message-text");
  const limit = Number(box.dataset.maxChars) || 20000;
  const n = box.value.length;
  const over = n > limit;
  $("message-count").textContent =
    `${n.toLocaleString("en")} of ${limit.toLocaleString("en")} characters` +
    (over ? `: ${(n - limit).toLocaleString("en")} over the service's limit` : "");
  $("message-count").classList.toggle("error", over);
  box.setAttribute("aria-invalid", String(over));
}

let sliderTimer = null;
function onSlider(label) {
  syncSlider(label);
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(scoreCurrent, 120);
}

// ---------------------------------------------------------------- correct it

let pendingLabel = null;

async function sendCorrection(label) {
  const key = apiKey();
  if (!key) {
    pendingLabel = label;
    $("key-form").hidden = false;
    $("api-key").focus();
    setStatus($("correct-status"), "The service needs its API key to keep a correction.");
    return;
  }
  const status = $("correct-status");
  const buttons = document.querySelectorAll(".correct-as");
  for (const b of buttons) b.disabled = true;
  setStatus(status, "Sending…");
  const body = { text: check.text, label, id: `web-${check.checkId}-${label}`, note: "review page" };
  if (check.channel) body.channel = check.channel;
  const result = await postJSON("/v1/feedback", body, { "X-API-Key": key });
  for (const b of buttons) b.disabled = false;
  if (result.status === 401) {
    forgetKey();
    pendingLabel = label;
    $("key-form").hidden = false;
    $("api-key").value = "";
    $("api-key").focus();
    setStatus(status, "That API key was refused; enter it again.", true);
    return;
  }
  if (result.status === 503) {
    setStatus(status, `Corrections are off on this service: ${errorText(result)}.`, true);
    return;
  }
  if (!result.ok) {
    setStatus(status, `Not stored: ${errorText(result)}`, true);
    return;
  }
  const how = result.data.created ? "Stored" : "Already stored";
  setStatus(
    status,
    `${how}: this message as “${pretty(result.data.label)}” (feedback id ${result.data.id}). ` +
      "The next “make retrain” will use it.",
  );
}

function onKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  rememberKey(key);
  $("api-key").value = "";
  $("key-form").hidden = true;
  if (pendingLabel) sendCorrection(pendingLabel);
  pendingLabel = null;
}

// ---------------------------------------------------------------- review the corrections

const review = { serial: 0 };

function askReviewKey(message, isError = false) {
  $("review-key-form").hidden = false;
  $("review-api-key").value = "";
  $("review-api-key").focus();
  setStatus($("review-status"), message, isError);
}

// A refused key is forgotten and asked again; a service without a key says review is off. True when handled.
function refused(result) {
  if (result.status === 401) {
    forgetKey();
    askReviewKey("That API key was refused; enter it again.", true);
    return true;
  }
  if (result.status === 503) {
    setStatus($("review-status"), `Review is not possible on this service now: ${errorText(result)}.`, true);
    return true;
  }
  return false;
}

const reviewWord = { pending: "waiting", accepted: "accepted", rejected: "rejected" };

function showReview(row, c) {
  const state = row.querySelector(".review-state");
  state.dataset.review = c.review;
  state.textContent = reviewWord[c.review] || c.review;
  if (c.reviewed) state.append(el("br"), el("small", { text: c.reviewed.replace("T", " ").slice(0, 16) }));
  row.dataset.review = c.review;
  for (const button of row.querySelectorAll("button[data-decision]")) {
    button.setAttribute("aria-pressed", String(button.dataset.decision === c.review));
  }
}

function correctionRow(c) {
  const tag = el("span", { class: `label-tag ${c.label}`, text: pretty(c.label) });
  const model = el("td", {}, el("span", { class: `label-tag ${c.model_label}`, text: pretty(c.model_label) }));
  model.append(` ${c.model_probability.toFixed(2)}`, el("br"));
  model.append(el("small", { text: `${pretty(c.label)}: ${c.probability_of_correction.toFixed(2)}` }));
  const terms = el(
    "ul",
    { class: "terms" },
    ...c.evidence.map((t) => el("li", { text: `${t.term} (${signed(t.weight, 2)})` })),
  );
  const marks = c.marks.length
    ? el("ul", { class: "marks" }, ...c.marks.map((m) => el("li", { class: "warn", text: `Look twice: ${m}` })))
    : "none";
  const decide = el("td", { class: "decide" });
  for (const [decision, word] of [["accepted", "Accept"], ["rejected", "Reject"]]) {
    const button = el("button", {
      type: "button",
      "data-decision": decision,
      "aria-label": `${word} correction ${c.id} (${pretty(c.label)})`,
      text: word,
    });
    button.addEventListener("click", () => decideCorrection(c.id, decision, row));
    decide.append(button);
  }
  const row = el(
    "tr",
    { class: c.marks.length ? "marked" : "", "data-id": c.id },
    el("td", { class: "text", text: c.text }),
    el("td", {}, tag),
    model,
    el("td", {}, terms),
    el("td", {}, marks),
    el("td", { class: "review-state" }),
    decide,
  );
  showReview(row, c);
  return row;
}

async function loadCorrections() {
  const key = apiKey();
  if (!key) {
    askReviewKey("The corrections are people's messages: the service needs its API key to show them.");
    return;
  }
  const serial = ++review.serial;
  $("review-key-form").hidden = true;
  setStatus($("review-status"), "Loading the corrections…");
  const result = await requestJSON("GET", "/v1/feedback", undefined, { "X-API-Key": key });
  if (serial !== review.serial) return; // a newer load is on its way
  if (refused(result)) return;
  if (!result.ok) {
    setStatus($("review-status"), `Could not load the corrections: ${errorText(result)}`, true);
    return;
  }
  const { corrections, model_version: version } = result.data;
  $("review-version").textContent = version;
  document.querySelector("#review-table tbody").replaceChildren(...corrections.map(correctionRow));
  $("review-table").hidden = corrections.length === 0;
  const waiting = corrections.filter((c) => c.review === "pending").length;
  const marked = corrections.filter((c) => c.marks.length).length;
  setStatus(
    $("review-status"),
    corrections.length
      ? `${corrections.length} correction(s) not merged yet: ${waiting} waiting for review, ${marked} marked.`
      : "No correction waits to be merged.",
  );
}

async function decideCorrection(id, decision, row) {
  const key = apiKey();
  if (!key) {
    askReviewKey("The service needs its API key to record a review.");
    return;
  }
  const buttons = row.querySelectorAll("button[data-decision]");
  for (const b of buttons) b.disabled = true;
  setStatus($("review-status"), "Sending…");
  const result = await postJSON(`/v1/feedback/${encodeURIComponent(id)}/review`, { decision }, { "X-API-Key": key });
  for (const b of buttons) b.disabled = false;
  if (refused(result)) return;
  if (!result.ok) {
    setStatus($("review-status"), `Not recorded: ${errorText(result)}`, true);
    return;
  }
  showReview(row, result.data);
  const effect = decision === "accepted" ? "the next “make retrain” merges it" : "no retrain will merge it";
  setStatus($("review-status"), `Correction ${id} ${decision} (${pretty(result.data.label)}): ${effect}.`);
}

function onReviewKey(event) {
  event.preventDefault();
  const key = $("review-api-key").value.trim();
  if (!key) return;
  rememberKey(key);
  $("review-api-key").value = "";
  loadCorrections();
}

// ---------------------------------------------------------------- read a scored inbox

const inbox = {
  rows: [],
  summary: null,
  sortKey: null,
  sortDir: -1,
  view: [], // the rows that pass the filters, in order; only one page of them is drawn
  page: 0,
  revealed: new Set(), // flagged rows the reader chose to see although they are veiled
  written: new Map(), // person key -> the sender as the file writes it
};
const collate = new Intl.Collator("en").compare;

// A CSV reader that slices fields out of the text (a 50,000-row file is read in a fraction of a second).
function parseCSV(text) {
  const rows = [];
  const n = text.length;
  let row = [];
  let i = 0;
  while (i < n) {
    let field = "";
    if (text[i] === '"') {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          field += text.slice(j);
          i = n;
          break;
        }
        field += text.slice(j, q);
        if (text[q + 1] === '"') {
          field += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    }
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10 || c === 13) break;
      j++;
    }
    field += text.slice(i, j);
    i = j;
    row.push(field);
    if (i >= n) {
      rows.push(row);
      break;
    }
    if (text[i] === ",") {
      i++;
      if (i >= n) {
        row.push("");
        rows.push(row);
      }
      continue;
    }
    if (text[i] === "\r" && text[i + 1] === "\n") i++;
    i++;
    rows.push(row);
    row = [];
  }
  const header = rows.shift() || [];
  return rows
    .filter((r) => r.length > 1 || r[0] !== "")
    .map((r) => Object.fromEntries(header.map((name, k) => [name, fromSpreadsheet(r[k] ?? "")])));
}

// A results CSV puts ' before a cell that a spreadsheet would run as a formula (boundaryline.safe_text):
// the page shows the text as it was.
function fromSpreadsheet(cell) {
  return cell.length > 1 && cell[0] === "'" && "=+-@\t\r'".includes(cell[1]) ? cell.slice(1) : cell;
}

function toRow(raw) {
  const p = Object.fromEntries(LABELS.map((l) => [l, Number(raw[`p_${l}`] ?? 0)]));
  const flagged = raw.flagged === true || /^(true|1|yes)$/i.test(String(raw.flagged));
  // A date without an offset is UTC, as boundaryline reads it (Date.parse would take it for local time).
  const date = String(raw.date ?? "");
  const when = date ? Date.parse(/T[\d:.]+$/.test(date) ? `${date}Z` : date) : NaN;
  const label = String(raw.label ?? "");
  const direction = String(raw.direction ?? "");
  const row = {
    id: String(raw.id ?? ""),
    sender: String(raw.sender ?? ""),
    recipients: String(raw.recipients ?? ""),
    date,
    time: Number.isNaN(when) ? null : when,
    subject: String(raw.subject ?? ""),
    thread: String(raw.thread ?? ""),
    snippet: String(raw.snippet ?? ""),
    direction,
    // The owner's own messages are not judged: they carry no label, and are named as what they are.
    own: direction === "outgoing" || !label,
    unanswered: Number(raw.unanswered) || 0,
    label,
    flagged,
    fired: String(raw.fired ?? ""),
    pattern: String(raw.pattern ?? ""),
    p: label ? (p[label] ?? 0) : null,
    concern: label ? Math.max(p.pestering, p.inappropriate_proposition) : -1,
    top_terms: String(raw.top_terms ?? ""),
  };
  row.haystack = `${row.sender} ${row.subject} ${row.snippet} ${row.top_terms} ${row.label}`.toLowerCase();
  return row;
}

function address(value) {
  if (!value) return "";
  if (!value.includes("@")) return value.split(/\s+/).filter(Boolean).join(" ").toLowerCase();
  const angle = value.match(/<([^>]+)>/);
  if (angle) return angle[1].trim().toLowerCase();
  const bare = value.match(/[^\s<>,;"]+@[^\s<>,;"]+/);
  return (bare ? bare[0] : value).trim().toLowerCase();
}

function addresses(value) {
  if (!value) return [];
  if (!value.includes("@")) {
    return value
      .split(",")
      .map((part) => part.split(/\s+/).filter(Boolean).join(" ").toLowerCase())
      .filter(Boolean);
  }
  return (value.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) || []).map((a) => a.toLowerCase());
}

// Names exports give to people they do not name: a different person in each conversation (senders.person).
const PLACEHOLDERS = new Set([
  "linkedin member", "linkedin user", "unknown", "unknown sender", "anonymous", "deleted user", "former member",
]);
// BOUNDARYLINE_PATTERN_TURN_MINUTES' default (closer messages are one turn): only for a results file opened
// without its summary, whose ranking is used as it is whenever it is there.
const TURN_GAP_MS = 10 * 60 * 1000;

function person(value, thread) {
  const key = address(value);
  if (!key || PLACEHOLDERS.has(key)) return thread ? `${key || "unknown sender"} (conversation ${thread})` : "";
  return key;
}

function people(value, thread) {
  return addresses(value)
    .map((key) => (PLACEHOLDERS.has(key) ? (thread ? `${key} (conversation ${thread})` : "") : key))
    .filter(Boolean);
}

// The sender as the file writes it ("Jake Turner <jake.turner@example.com>"), for a ranking keyed by address.
function writtenName(key) {
  return inbox.written.get(key) || key;
}

// Each sender's own messages and the owner's replies to them, in one pass over the rows.
function groupBySender(rows) {
  const groups = new Map();
  const group = (key) => {
    if (!groups.has(key)) groups.set(key, { mine: [], replies: [] });
    return groups.get(key);
  };
  inbox.written = new Map();
  for (const r of rows) {
    if (r.direction === "outgoing") {
      if (r.time === null) continue;
      for (const key of people(r.recipients, r.thread)) group(key).replies.push(r);
      continue;
    }
    const key = person(r.sender, r.thread);
    if (!key) continue;
    if (!inbox.written.has(key)) inbox.written.set(key, r.sender.trim() || key);
    group(key).mine.push(r);
  }
  return groups;
}

// The sender ranking of boundaryline.senders.summarise_senders, for a results file opened without its summary:
// from the rows themselves (their labels, and the unanswered turns the batch scorer counted), as the summary is.
function rankSenders(groups) {
  const ranked = [...groups.entries()]
    .filter(([, g]) => g.mine.length)
    .map(([sender, g]) => {
      const labels = {};
      let longest = 0;
      for (const r of g.mine) {
        labels[r.label] = (labels[r.label] || 0) + 1;
        longest = Math.max(longest, r.unanswered);
      }
      const times = g.mine.map((r) => r.time).filter((t) => t !== null).sort((a, b) => a - b);
      const gaps = times.slice(1).map((t, i) => t - times[i]).filter((gap) => gap > TURN_GAP_MS);
      return {
        sender,
        messages: g.mine.length,
        labels,
        concerning: (labels.pestering || 0) + (labels.inappropriate_proposition || 0),
        longest_unanswered_run: longest,
        shortest_gap_seconds: gaps.length ? gaps.reduce((a, b) => Math.min(a, b)) / 1000 : null,
      };
    });
  ranked.sort(
    (a, b) =>
      b.concerning - a.concerning ||
      b.longest_unanswered_run - a.longest_unanswered_run ||
      (a.shortest_gap_seconds ?? Infinity) - (b.shortest_gap_seconds ?? Infinity) ||
      (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0),
  );
  return ranked;
}

function formatGap(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

function marker(x, y, label) {
  if (label === "pestering") return svg("rect", { x: x - 3.5, y: y - 3.5, width: 7, height: 7, class: "m-pestering" });
  if (label === "inappropriate_proposition") {
    return svg("polygon", {
      points: `${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}`,
      class: "m-inappropriate_proposition",
    });
  }
  return svg("circle", { cx: x, cy: y, r: 3.5, class: "m-professional" });
}

function timeline(sender, group, span) {
  const width = 240;
  const height = 30;
  const pad = 7;
  const x = (t) => pad + ((t - span[0]) / Math.max(1, span[1] - span[0])) * (width - 2 * pad);
  const mine = group.mine.filter((r) => r.time !== null);
  const replies = group.replies;
  const events = [...mine.map((r) => ({ r, reply: false })), ...replies.map((r) => ({ r, reply: true }))].sort(
    (a, b) => a.r.time - b.r.time,
  );
  const node = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "timeline", role: "img" });
  const longest = mine.reduce((most, r) => Math.max(most, r.unanswered), 0); // the turns the batch scorer counted
  const title = svg("title");
  node.append(title, svg("line", { x1: pad, x2: width - pad, y1: 13, y2: 13, class: "axis" }));
  let previous = null;
  for (const { r, reply } of events) {
    if (reply) {
      node.append(svg("line", { x1: x(r.time), x2: x(r.time), y1: 20, y2: 29, class: "reply" }));
      previous = null;
      continue;
    }
    if (previous) {
      node.append(svg("line", { x1: x(previous.time), x2: x(r.time), y1: 13, y2: 13, class: "run" }));
    }
    previous = r;
  }
  for (const r of mine) node.append(marker(x(r.time), 13, r.label));
  const text =
    `${writtenName(sender)}: ${mine.length} dated message(s), ${replies.length} repl${replies.length === 1 ? "y" : "ies"} ` +
    `from you, at most ${longest} turn(s) in a row without a reply`;
  title.textContent = text;
  node.setAttribute("aria-label", text);
  return node;
}

// Who the owner is and how that was decided (owner.py), from the summary; without it, what the rows show.
function ownerLine() {
  const owner = inbox.summary?.owner;
  if (owner) {
    return owner.aliases.length
      ? `Owner: ${owner.aliases.join(", ")} (${owner.how}).`
      : `Owner not decided: ${owner.how}. No sender history was applied; name the owner with --owner.`;
  }
  const own = inbox.rows.filter((r) => r.direction === "outgoing");
  const names = [...new Set(own.map((r) => r.sender.trim()))].join(", ");
  return own.length
    ? `Your own messages in this file: ${own.length} (from ${names}). Open the summary for how the owner was decided.`
    : "No message of yours (the inbox's owner) in this file. Open the summary for who the owner is.";
}

const SENDER_ROWS = 200; // the most concerning senders drawn; the rest are counted

function renderSenders() {
  $("inbox-owner").textContent = ownerLine();
  const body = document.querySelector("#senders-table tbody");
  body.replaceChildren();
  const groups = groupBySender(inbox.rows);
  const ranked = inbox.summary ? inbox.summary.senders_by_concern || [] : rankSenders(groups);
  let span = null;
  for (const r of inbox.rows) {
    if (r.time === null) continue;
    span = span ? [Math.min(span[0], r.time), Math.max(span[1], r.time)] : [r.time, r.time];
  }
  const none = { mine: [], replies: [] };
  for (const s of ranked.slice(0, SENDER_ROWS)) {
    const cell = el("td");
    if (span) cell.append(timeline(s.sender, groups.get(s.sender) || none, span));
    else cell.textContent = "no dated messages";
    body.append(
      el(
        "tr",
        { "data-sender": s.sender },
        el("th", { scope: "row", text: writtenName(s.sender) }),
        el("td", { class: "num", text: String(s.messages) }),
        el("td", { class: "num", text: String(s.labels.pestering || 0) }),
        el("td", { class: "num", text: String(s.labels.inappropriate_proposition || 0) }),
        el("td", { class: "num", text: String(s.longest_unanswered_run) }),
        el("td", { class: "num", text: formatGap(s.shortest_gap_seconds) }),
        cell,
      ),
    );
  }
  $("senders-more").textContent =
    ranked.length > SENDER_ROWS ? `The ${SENDER_ROWS} most concerning of ${ranked.length} senders are shown.` : "";
}

function renderCounts() {
  const counts = Object.fromEntries(LABELS.map((label) => [label, 0]));
  let own = 0;
  for (const r of inbox.rows) {
    if (r.own) own++;
    else counts[r.label] = (counts[r.label] || 0) + 1;
  }
  const total = Math.max(1, inbox.rows.length - own);
  const box = $("inbox-counts");
  box.replaceChildren();
  for (const [label, n] of Object.entries(counts)) {
    const fill = el("span", { class: `bar-fill ${label}` });
    fill.style.width = `${((100 * n) / total).toFixed(1)}%`;
    box.append(
      el(
        "div",
        { class: "bar", "data-label": label },
        el("span", { class: "bar-name", text: pretty(label) }),
        el("span", { class: "bar-track", "aria-hidden": "true" }, fill),
        el("span", { class: "bar-value", text: String(n) }),
      ),
    );
  }
  $("inbox-own").textContent = own
    ? `Your own messages: ${own}, not scored and not counted above.`
    : "No message of your own in this file.";
}

function compareRows(a, b) {
  const key = inbox.sortKey;
  if (key === null) {
    // Flagged first, the most confident concern first among them, then by date.
    return b.flagged - a.flagged || b.concern - a.concern || (a.time ?? Infinity) - (b.time ?? Infinity);
  }
  const va = key === "date" ? (a.time ?? -Infinity) : key === "p" ? (a.p ?? -1) : a[key];
  const vb = key === "date" ? (b.time ?? -Infinity) : key === "p" ? (b.p ?? -1) : b[key];
  const order = typeof va === "string" ? collate(va, vb) : va - vb;
  return inbox.sortDir * order || b.concern - a.concern;
}

// Filter and sort all the rows (the view), then draw the current page of it.
function filterRows() {
  const query = $("inbox-filter").value.trim().toLowerCase();
  const label = $("inbox-label").value;
  const flaggedOnly = $("inbox-flagged").checked;
  inbox.view = inbox.rows
    .filter((r) => !label || (label === "own" ? r.own : r.label === label))
    .filter((r) => !flaggedOnly || r.flagged)
    .filter((r) => !query || r.haystack.includes(query))
    .sort(compareRows);
  inbox.page = 0;
  renderPage();
}

const veiling = () => $("inbox-veil").checked;

function messageRow(r, withSnippets) {
  const veiled = r.flagged && veiling() && !inbox.revealed.has(r.id);
  const flaggedCell = el("td", { text: r.flagged ? "yes" : "no" });
  if (veiled) {
    const show = el("button", { type: "button", class: "reveal", text: "show", "aria-label": "show this message" });
    show.addEventListener("click", () => {
      inbox.revealed.add(r.id);
      const row = messageRow(r, withSnippets);
      show.closest("tr").replaceWith(row);
      const first = row.querySelector("td");
      first.setAttribute("tabindex", "-1");
      first.focus();
    });
    flaggedCell.append(" ", show);
  }
  const veil = veiled ? "veil" : "";
  const reason = r.fired === "pattern" || r.fired === "both" ? r.pattern : "";
  const labelCell = r.own
    ? el("td", { class: "own", text: "your own message" })
    : el("td", { text: pretty(r.label) });
  if (reason && !r.own) labelCell.append(el("small", { class: "reason", text: reason }));
  const cells = [
    flaggedCell,
    el("td", { text: r.date.replace("T", " ").slice(0, 16) }),
    el("td", { text: r.sender }),
    el("td", { class: veil, text: r.subject }),
  ];
  if (withSnippets) {
    // The message's start, when the results carry it (`score --snippets`): the subject alone is rarely enough.
    const cell = el("td", { class: veil });
    if (r.snippet) cell.append(el("span", { class: "snippet", text: r.snippet }));
    cells.push(cell);
  }
  cells.push(
    labelCell,
    el("td", { class: "num", text: r.p === null ? "–" : r.p.toFixed(2) }),
    el("td", { class: veil, text: r.top_terms }),
  );
  const classes = [r.flagged ? "flagged" : "", veiled ? "veiled" : ""].filter(Boolean);
  const attrs = { class: classes.join(" "), "data-id": r.id, "data-label": r.label };
  if (r.own) attrs["data-own"] = "true";
  return el("tr", attrs, ...cells);
}

function renderPage() {
  const pages = Math.max(1, Math.ceil(inbox.view.length / PAGE_ROWS));
  inbox.page = Math.min(Math.max(0, inbox.page), pages - 1);
  const start = inbox.page * PAGE_ROWS;
  const shown = inbox.view.slice(start, start + PAGE_ROWS);
  const withSnippets = inbox.hasSnippets;
  $("snippet-head").hidden = !withSnippets;
  const body = document.querySelector("#inbox-table tbody");
  body.replaceChildren(...shown.map((r) => messageRow(r, withSnippets)));
  const flagged = inbox.flagged;
  const range = inbox.view.length ? `rows ${start + 1}–${start + shown.length} of ${inbox.view.length}` : "no row";
  $("page-info").textContent = `${range} (page ${inbox.page + 1} of ${pages})`;
  $("page-prev").disabled = inbox.page === 0;
  $("page-next").disabled = inbox.page >= pages - 1;
  setStatus(
    $("inbox-status"),
    `${inbox.rows.length} message(s), ${flagged} flagged; ${inbox.view.length} pass the filters; showing ${range}.`,
  );
}

function turnPage(step) {
  inbox.page += step;
  renderPage();
}

function onSort(event) {
  const button = event.target.closest("button[data-key]");
  if (!button) return;
  const key = button.dataset.key;
  inbox.sortDir = inbox.sortKey === key ? -inbox.sortDir : key === "flagged" || key === "p" ? -1 : 1;
  inbox.sortKey = key;
  for (const th of document.querySelectorAll("#inbox-table th")) th.removeAttribute("aria-sort");
  button.parentElement.setAttribute("aria-sort", inbox.sortDir > 0 ? "ascending" : "descending");
  filterRows();
}

async function onFiles(event) {
  const status = $("inbox-status");
  const files = [...event.target.files];
  if (!files.length) return;
  const started = performance.now();
  setStatus(status, "Reading…");
  let rows = null;
  let summary = null;
  try {
    for (const file of files) {
      const text = (await file.text()).replace(/^\uFEFF/, "");
      const name = file.name.toLowerCase();
      if (name.endsWith(".json")) {
        const parsed = JSON.parse(text);
        if (parsed && parsed.senders_by_concern) summary = parsed;
        else rows = (Array.isArray(parsed) ? parsed : [parsed]).map(toRow);
      } else if (name.endsWith(".jsonl") || text.trimStart().startsWith("{")) {
        rows = text
          .split(/\r?\n/)
          .filter((line) => line.trim())
          .map((line) => toRow(JSON.parse(line)));
      } else {
        rows = parseCSV(text).map(toRow);
      }
    }
  } catch (error) {
    setStatus(status, `Could not read the file: ${error.message}`, true);
    return;
  }
  if (!rows) {
    setStatus(status, "That is a summary only: open the results file too (both can be chosen at once).", true);
    return;
  }
  if (rows.length && !rows.some((r) => r.label)) {
    setStatus(status, "This does not look like a results file of `make score` (no label column).", true);
    return;
  }
  inbox.rows = rows;
  inbox.summary = summary;
  inbox.sortKey = null;
  inbox.sortDir = -1;
  inbox.revealed = new Set();
  inbox.hasSnippets = rows.some((r) => r.snippet);
  inbox.flagged = rows.reduce((n, r) => n + (r.flagged ? 1 : 0), 0);
  for (const th of document.querySelectorAll("#inbox-table th")) th.removeAttribute("aria-sort");
  document.querySelector('#inbox-table button[data-key="flagged"]').parentElement.setAttribute("aria-sort", "descending");
  $("inbox-out").hidden = false;
  renderCounts();
  renderSenders();
  filterRows();
  $("inbox-out").dataset.openMs = String(Math.round(performance.now() - started));
}

// ---------------------------------------------------------------- wiring

document.addEventListener("DOMContentLoaded", () => {
  showView();
  window.addEventListener("hashchange", showView);
  if (!$("check-form")) return;
  resetThresholds();
  $("check-form").addEventListener("submit", onCheck);
  for (const row of document.querySelectorAll(".threshold")) {
    const label = row.dataset.label;
    $(`th-on-${label}`).addEventListener("change", () => onSlider(label));
    $(`th-${label}`).addEventListener("input", () => onSlider(label));
  }
  $("th-reset").addEventListener("click", () => {
    resetThresholds();
    scoreCurrent();
  });
  for (const button of document.querySelectorAll(".correct-as")) {
    button.addEventListener("click", () => sendCorrection(button.dataset.label));
  }
  $("key-form").addEventListener("submit", onKey);
  $("key-cancel").addEventListener("click", () => {
    $("key-form").hidden = true;
    pendingLabel = null;
    setStatus($("correct-status"), "Nothing sent.");
  });
  showForgetButtons();
  $("forget-key").addEventListener("click", () => {
    forgetKey();
    setStatus($("correct-status"), "The API key is forgotten.");
  });
  $("review-key-form").addEventListener("submit", onReviewKey);
  $("review-reload").addEventListener("click", loadCorrections);
  $("review-forget-key").addEventListener("click", () => {
    forgetKey();
    setStatus($("review-status"), "The API key is forgotten.");
  });
  $("inbox-file").addEventListener("change", onFiles);
  for (const id of ["inbox-filter", "inbox-label", "inbox-flagged"]) $(id).addEventListener("input", filterRows);
  $("page-prev").addEventListener("click", () => turnPage(-1));
  $("page-next").addEventListener("click", () => turnPage(1));
  $("inbox-veil").checked = localStorage.getItem(VEIL_STORE) === "on";
  $("inbox-veil").addEventListener("change", () => {
    localStorage.setItem(VEIL_STORE, $("inbox-veil").checked ? "on" : "off");
    if (inbox.rows.length) renderPage();
  });
  $("message-text").addEventListener("input", countChars);
  countChars();
  document.querySelector("#inbox-table thead").addEventListener("click", onSort);
});
