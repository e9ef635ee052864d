// AnimeRec web page: plain JS against the gateway's /api/v1 (same origin). Titles and synopses are
// untrusted text: they only ever go into textContent (or attribute values), never into innerHTML.
"use strict";

const GENRES = ["Action", "Adventure", "Cars", "Comedy", "Dementia", "Demons", "Drama", "Ecchi", "Fantasy",
  "Game", "Harem", "Historical", "Horror", "Josei", "Kids", "Magic", "Martial Arts", "Mecha", "Military",
  "Music", "Mystery", "Parody", "Police", "Psychological", "Romance", "Samurai", "School", "Sci-Fi", "Seinen",
  "Shoujo", "Shoujo Ai", "Shounen", "Shounen Ai", "Slice of Life", "Space", "Sports", "Super Power",
  "Supernatural", "Thriller", "Vampire"];
const SVG_NS = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 12;
const MAX_IDS = 500; // the API's cap on liked (and on disliked) ids
const STORE_KEY = "animerec.lists.v1";

// Sample profiles: liked anime that are in the real MyAnimeList catalogue and among the most watched
// titles of the sample catalogue (ingestion's sample_catalog), so a profile works on both.
const PROFILES = [
  { key: "shounen", label: "Shounen action fan", liked: [
    [5114, "Fullmetal Alchemist: Brotherhood"], [16498, "Attack on Titan"], [11061, "Hunter x Hunter (2011)"],
    [20, "Naruto"], [31964, "My Hero Academia"]] },
  { key: "slice-of-life", label: "Slice-of-life and romance", liked: [
    [4224, "Toradora!"], [2167, "Clannad"], [23273, "Your Lie in April"], [33352, "Violet Evergarden"],
    [5680, "K-On!"]] },
  { key: "mecha", label: "Mecha and sci-fi", liked: [
    [1575, "Code Geass: Lelouch of the Rebellion"], [2001, "Gurren Lagann"], [30, "Neon Genesis Evangelion"],
    [9253, "Steins;Gate"], [1, "Cowboy Bebop"]] },
];

// The one-line reason of a card: its strongest ranking component (item.sources, strongest first).
const REASONS = {
  item_item: (c) => `Often watched together with ${c.what}`,
  collaborative: (c) => c.similarTo ? `Liked by the same people as ${c.similarTo}` : "Fits the rating patterns of people with your taste",
  content: (c) => `Similar genres and story to ${c.similarTo || c.what}`,
  franchise: () => "From a franchise you like",
  user_based: () => "A favourite of users with tastes like yours",
  popularity: () => "Popular with many viewers",
  quality: () => "Very well rated",
  title: () => "Matches your search",
  members: () => "One of the most watched",
  ratings: () => "One of your favourites",
};

const $ = (id) => document.getElementById(id);
const lists = { liked: new Map(), disliked: new Map() }; // anime_id -> title, in the order added
let uid = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "for") node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text || "";
  s.classList.toggle("error", Boolean(isError));
}

// ---------------------------------------------------------------- API

async function api(method, path, body) {
  const init = { method, headers: { "Accept": "application/json" } };
  if (body instanceof FormData) {
    init.body = body; // multipart: the browser sets the Content-Type with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = (data && data.error) || {};
    const e = new Error(err.message || `request failed (${resp.status})`);
    e.code = err.code || "http_" + resp.status;
    e.status = resp.status;
    e.details = err.details;
    throw e;
  }
  return data;
}

function filters() {
  const f = {};
  const type = $("filter-type").value;
  if (type) f.type = [type];
  const genres = [...document.querySelectorAll("#genre-options input:checked")].map((i) => i.value);
  if (genres.length) f.genre = genres;
  f.include_adult = !$("filter-hide-adult").checked;
  return f;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, String(v));
  }
  return q.toString();
}

// ---------------------------------------------------------------- item fields

function titleOf(item) {
  return item.title || item.english_title || item.name || `#${item.anime_id}`;
}

function genresOf(item) {
  const g = item.genres;
  if (Array.isArray(g)) return g;
  if (typeof g === "string") return g.split(",").map((s) => s.trim()).filter(Boolean);
  return [];
}

function malUrl(item) {
  const url = typeof item.url === "string" ? item.url : "";
  if (/^https:\/\/myanimelist\.net\//.test(url)) return url;
  return `https://myanimelist.net/anime/${encodeURIComponent(item.anime_id)}`;
}

function isNum(x) {
  return typeof x === "number" && isFinite(x);
}

function fmt(x, digits) {
  return isNum(x) ? x.toFixed(digits) : "–";
}

// "2009 · TV · 64 episodes" from what the item has.
function factsLine(item) {
  const parts = [];
  if (isNum(item.year)) parts.push(String(Math.round(item.year)));
  if (item.type) parts.push(String(item.type));
  if (isNum(item.episodes)) {
    const n = Math.round(item.episodes);
    parts.push(n === 1 ? "1 episode" : `${n} episodes`);
  }
  return parts.join(" · ");
}

// The item's relevance (in [0, 1]) as the list means it: a similar-anime list's is the similarity of the two
// anime, a recommendation list's the ranking score relative to its top recommendation. null: nothing shown.
const RELEVANCE = {
  similar: (p) => [`${p}% similar`, "How similar it is to the anime you picked"],
  recommended: (p) => [`match ${p}%`, "How strongly it is recommended, relative to the top recommendation (100%)"],
};

function relevanceLabel(item, kind) {
  const r = item.relevance;
  if (!isNum(r) || !RELEVANCE[kind]) return null;
  const [text, hint] = RELEVANCE[kind](Math.round(Math.min(1, Math.max(0, r)) * 100));
  return el("span", { class: "match", title: hint }, text);
}

function reasonOf(item, context) {
  const sources = Array.isArray(item.sources) ? item.sources : [];
  for (const s of sources) if (REASONS[s]) return REASONS[s](context);
  return null;
}

// ---------------------------------------------------------------- favourites and dislikes (localStorage)

function loadLists() {
  let stored = null;
  try { stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null"); } catch (e) { stored = null; }
  for (const name of ["liked", "disliked"]) {
    lists[name].clear();
    const entries = stored && typeof stored === "object" && Array.isArray(stored[name]) ? stored[name] : [];
    for (const entry of entries.slice(0, MAX_IDS)) {
      if (!Array.isArray(entry)) continue;
      const [id, title] = entry;
      if (!Number.isSafeInteger(id) || id < 1) continue;
      lists[name].set(id, typeof title === "string" && title ? title.slice(0, 300) : `#${id}`);
    }
  }
  for (const id of lists.liked.keys()) lists.disliked.delete(id); // an id is never in both
}

function saveLists() {
  try {
    window.localStorage.setItem(STORE_KEY, JSON.stringify({
      liked: [...lists.liked], disliked: [...lists.disliked],
    }));
  } catch (e) { /* storage full or disabled: the lists last as long as the page */ }
}

// Marks an anime liked or disliked (the other list loses it); a second press takes the mark back.
function toggleMark(name, id, title) {
  const other = name === "liked" ? "disliked" : "liked";
  if (lists[name].has(id)) {
    lists[name].delete(id);
  } else {
    if (lists[name].size >= MAX_IDS) {
      setStatus(`At most ${MAX_IDS} anime per list.`, true);
      return;
    }
    lists[name].set(id, title);
    lists[other].delete(id);
  }
  saveLists();
  renderLists();
}

function renderLists() {
  for (const [name, ulId] of [["liked", "favourites"], ["disliked", "dislikes"]]) {
    const ul = $(ulId);
    ul.replaceChildren();
    for (const [id, title] of lists[name]) {
      const remove = el("button", { type: "button", class: "remove", "data-anime-id": String(id),
        "aria-label": `Remove ${title}` }, "×");
      remove.addEventListener("click", () => toggleMark(name, id, title));
      ul.append(el("li", { "data-anime-id": String(id) }, el("span", {}, title), remove));
    }
  }
  $("dislikes-box").hidden = lists.disliked.size === 0;
  $("fav-empty").hidden = lists.liked.size > 0;
  $("fav-recommend").disabled = lists.liked.size === 0;
  $("fav-clear").hidden = lists.liked.size + lists.disliked.size === 0;
  for (const b of document.querySelectorAll("button[data-mark]")) {
    const id = Number(b.dataset.animeId);
    b.setAttribute("aria-pressed", String(lists[b.dataset.mark].has(id)));
  }
}

function markButton(name, id, title, extraClass) {
  const label = name === "liked" ? "Favourite" : "Dislike";
  const icon = name === "liked" ? "♥" : "✕";
  const b = el("button", { type: "button", class: `mark ${name === "liked" ? "fav" : "dislike"} ${extraClass || ""}`,
    "data-mark": name, "data-anime-id": String(id), "aria-label": `${label} ${title}`,
    "aria-pressed": String(lists[name].has(id)) },
  el("span", { "aria-hidden": "true" }, icon), ` ${label}`);
  b.addEventListener("click", () => toggleMark(name, id, title));
  return b;
}

// ---------------------------------------------------------------- cards

// view: {heading, subject ({user_id} | {liked} | null: no explanations), strategy, context (reason wording),
// relevance (a RELEVANCE key: how the list's relevance reads), load(page) -> answer | null (no more pages)}
let view = null;

function renderAnswer(v, answer) {
  view = v;
  const items = (answer && answer.items) || [];
  const next = answer && Array.isArray(answer.continue) ? answer.continue : [];
  $("results").replaceChildren(...items.map((item) => card(item, v, true)));
  $("continue").replaceChildren(...next.map((item) => card(item, v, false)));
  $("continue-panel").hidden = next.length === 0;
  $("results-h").textContent = v.heading;
  const parts = [countLine(items.length, answer)];
  if (next.length) parts.push(`${next.length} to continue`);
  if (answer && answer.model_version) parts.push(`model ${answer.model_version}`);
  setStatus(`${v.heading}: ${parts.join(" · ")}`);
  updateMore(answer);
  // The list replaced what was there (maybe the button just pressed): keyboard and screen reader users
  // continue from its heading, and on a phone it scrolls the answer into view.
  $("results-h").focus();
}

// "12 anime", or "12 of 40 anime" where the list says how long it is (pagination.total).
function countLine(shown, answer) {
  const total = answer && answer.pagination && answer.pagination.total;
  return isNum(total) && total > shown ? `${shown} of ${total} anime` : `${shown} anime`;
}

function updateMore(answer) {
  const p = answer && answer.pagination;
  const more = $("results-more");
  more.hidden = !(view && view.load && p && p.has_next);
  more.dataset.page = String((p && Number(p.page)) || 1);
}

async function loadMore() {
  const more = $("results-more");
  const page = Number(more.dataset.page || "1") + 1;
  more.disabled = true;
  try {
    const answer = await view.load(page);
    const items = (answer && answer.items) || [];
    const seen = new Set([...document.querySelectorAll("#results .card")].map((c) => c.dataset.animeId));
    const fresh = items.filter((i) => !seen.has(String(i.anime_id)));
    const cards = fresh.map((item) => card(item, view, true));
    $("results").append(...cards);
    updateMore(answer);
    setStatus(`${view.heading}: ${countLine(document.querySelectorAll("#results .card").length, answer)}`);
    if (cards.length) cards[0].querySelector("h3 a").focus();
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    more.disabled = false;
  }
}

// One card; discovery cards also offer the other entries of their franchise.
function card(item, v, discovery) {
  const id = Number(item.anime_id);
  const title = titleOf(item);
  const headingId = `card-${++uid}`;
  const facts = factsLine(item);
  const reason = reasonOf(item, v.context);
  const node = el("article", { class: "card", "data-anime-id": String(id), "aria-labelledby": headingId },
    el("h3", { id: headingId },
      el("a", { href: malUrl(item), target: "_blank", rel: "noopener noreferrer", class: "mal",
        title: "Open on MyAnimeList (new tab)" }, title)),
    item.name && item.name !== title ? el("p", { class: "alt" }, item.name) : null,
    facts ? el("p", { class: "facts" }, facts) : null,
    el("div", { class: "genres" }, ...genresOf(item).map((g) => el("span", {}, g))),
    el("p", { class: "numbers" },
      el("span", { class: "score" }, `score ${fmt(item.score, 2)}`),
      relevanceLabel(item, v.relevance),
      item.plan_to_watch ? el("span", { class: "planned" }, "on your plan-to-watch list") : null),
    reason ? el("p", { class: "reason" }, reason) : null,
    discovery ? franchiseBlock(item) : null);
  const actions = el("div", { class: "actions" },
    markButton("liked", id, title), markButton("disliked", id, title));
  const similar = el("button", { type: "button", class: "secondary similar", "aria-label": `Similar to ${title}` },
    "Similar");
  similar.addEventListener("click", () => showSimilar(id, title));
  actions.append(similar);
  node.append(actions);
  if (v.subject) node.append(whyBlock(id, title, v));
  return node;
}

function franchiseBlock(item) {
  const size = Number(item.franchise && item.franchise.size);
  if (!Number.isInteger(size) || size < 2) return null;
  const listId = `franchise-${++uid}`;
  const toggle = el("button", { type: "button", class: "link franchise", "aria-expanded": "false",
    "aria-controls": listId }, `+${size - 1} more in this franchise`);
  const list = el("ul", { class: "franchise-list", id: listId, hidden: true });
  toggle.addEventListener("click", () => toggleFranchise(item, toggle, list));
  return el("div", { class: "franchise-box" }, toggle, list);
}

async function toggleFranchise(item, toggle, list) {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  list.hidden = !open;
  if (!open || list.dataset.loaded) return;
  list.replaceChildren(el("li", { class: "meta" }, "loading…"));
  try {
    const answer = await api("GET", `/api/v1/anime/${encodeURIComponent(item.anime_id)}/franchise`);
    const entries = (answer && answer.items) || [];
    list.replaceChildren(...entries.map((e) => el("li", { "data-anime-id": String(e.anime_id) },
      el("a", { href: malUrl(e), target: "_blank", rel: "noopener noreferrer" }, titleOf(e)),
      factsLine(e) ? el("span", { class: "meta" }, ` ${factsLine(e)}`) : null)));
    if (!entries.length) list.append(el("li", { class: "meta" }, "no other entries"));
    list.dataset.loaded = "1";
  } catch (e) {
    list.replaceChildren(el("li", { class: "meta error" }, `Could not load the franchise: ${e.message}`));
  }
}

// "Why?": a disclosure that fetches the explanation the first time it opens.
function whyBlock(animeId, title, v) {
  const out = el("div", { class: "explanation", "aria-live": "polite" });
  const details = el("details", { class: "why" },
    el("summary", { "aria-label": `Why ${title}?` }, "Why?"), out);
  details.addEventListener("toggle", () => {
    if (details.open && !out.dataset.loaded) explain(out, animeId, v);
  });
  return details;
}

async function explain(out, animeId, v) {
  out.dataset.loaded = "1";
  out.replaceChildren(el("p", { class: "meta" }, "thinking…"));
  try {
    const body = { ...v.subject, anime_id: animeId };
    if (v.strategy) body.strategy = v.strategy;
    const answer = await api("POST", "/api/v1/explanations", body);
    const facts = Array.isArray(answer.facts) ? answer.facts.map((f) => f && f.text).filter(Boolean) : [];
    const parts = [];
    // A template text is the facts run together: the list says the same, shorter. An LLM's text comes first.
    if (answer.source !== "template" || !facts.length) parts.push(el("p", { class: "text" }, answer.text || ""));
    if (facts.length) parts.push(el("ul", { class: "facts-list" }, ...facts.map((t) => el("li", {}, t))));
    parts.push(el("p", { class: "source" }, answer.source === "llm"
      ? "Written by a language model and checked against these facts."
      : "Built from facts the system computed."));
    out.replaceChildren(...parts);
  } catch (e) {
    delete out.dataset.loaded; // closing and opening again retries
    out.replaceChildren(el("p", { class: "error" }, `No explanation: ${e.message}`));
  }
}

// ---------------------------------------------------------------- the lists

async function showSimilar(animeId, title) {
  setStatus(`Looking for anime similar to ${title}…`);
  const f = filters();
  const load = (page) => api("GET", `/api/v1/anime/${animeId}/similar?` +
    query({ limit: PAGE_SIZE, page: page > 1 ? page : undefined, ...f }));
  try {
    const answer = await load(1);
    renderAnswer({ heading: `Similar to ${title}`, subject: { liked: [animeId] }, strategy: null,
      context: { what: title, similarTo: title }, relevance: "similar", load }, answer);
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function search(event) {
  event.preventDefault();
  const q = $("search-input").value.trim();
  const list = $("search-results");
  if (!q) return;
  list.replaceChildren(el("li", { class: "meta" }, "searching…"));
  try {
    const answer = await api("GET", "/api/v1/anime?" + query({ q, limit: 15, ...filters() }));
    list.replaceChildren();
    const items = answer.items || [];
    if (!items.length) list.append(el("li", { class: "meta" }, "no anime found"));
    for (const item of items) {
      const id = Number(item.anime_id);
      const title = titleOf(item);
      const sim = el("button", { type: "button", class: "secondary similar", "aria-label": `Similar to ${title}` },
        "Similar");
      sim.addEventListener("click", () => showSimilar(id, title));
      const facts = factsLine(item);
      list.append(el("li", { "data-anime-id": String(id) },
        el("span", { class: "name" }, title, facts ? el("span", { class: "meta" }, ` ${facts}`) : null),
        markButton("liked", id, title, "add-fav"), sim));
    }
    const total = answer.pagination && answer.pagination.total;
    $("search-count").textContent = items.length ? `${items.length}${isNum(total) && total > items.length
      ? ` of ${total}` : ""} found` : "";
  } catch (e) {
    list.replaceChildren(el("li", { class: "meta error" }, e.message));
  }
}

async function recommendFromFavourites() {
  const liked = [...lists.liked.keys()];
  const disliked = [...lists.disliked.keys()];
  if (!liked.length) return;
  setStatus("Recommending from your favourites…");
  const body = { liked, ...filters() };
  if (disliked.length) body.disliked = disliked;
  const load = (page) => api("POST", "/api/v1/recommendations",
    page > 1 ? { ...body, limit: PAGE_SIZE, page } : { ...body, limit: PAGE_SIZE });
  try {
    const answer = await load(1);
    renderAnswer({ heading: "From your favourites", subject: { liked }, strategy: null,
      context: { what: "your favourites" }, relevance: "recommended", load }, answer);
  } catch (e) {
    setStatus(e.message, true);
  }
}

function useProfile(profile) {
  lists.liked.clear();
  lists.disliked.clear();
  for (const [id, title] of profile.liked) lists.liked.set(id, title);
  saveLists();
  renderLists();
  recommendFromFavourites();
}

async function recommendForUser(event) {
  event.preventDefault();
  const userId = Number($("user-id").value);
  const strategy = $("user-strategy").value;
  setStatus(`Recommending for user ${userId}…`);
  const prefs = api("GET", `/api/v1/users/${userId}/preferences`).then(
    (p) => drawGenreChart(p, "genre-chart", `Favourite genres of user ${userId}`), () => drawGenreChart(null));
  const f = filters();
  const load = (page) => api("GET", `/api/v1/users/${userId}/recommendations?` +
    query({ limit: PAGE_SIZE, page: page > 1 ? page : undefined, strategy, ...f }));
  try {
    const answer = await load(1);
    renderAnswer({ heading: `For user ${userId} (${strategy})`, subject: { user_id: userId }, strategy,
      context: { what: "anime you rated highly" }, relevance: "recommended", load }, answer);
  } catch (e) {
    setStatus(e.code === "user_not_found" ? `${e.message} Try "From your favourites" instead.` : e.message, true);
  }
  await prefs;
}

// "312 entries, 305 matched, 7 not in the catalogue"
function summaryLine(s) {
  if (!s || typeof s !== "object") return "";
  const parts = [];
  if (isNum(s.entries)) parts.push(`${s.entries} ${s.entries === 1 ? "entry" : "entries"}`);
  if (isNum(s.matched)) parts.push(`${s.matched} matched`);
  if (isNum(s.unknown)) parts.push(`${s.unknown} not in the catalogue`);
  return parts.join(", ");
}

async function importList(event) {
  event.preventDefault();
  const input = $("mal-file");
  const file = input.files && input.files[0];
  const out = $("import-summary");
  out.classList.remove("error");
  if (!file) {
    out.textContent = "Choose your MyAnimeList export file first.";
    out.classList.add("error");
    input.focus();
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  out.textContent = `Importing ${file.name}…`;
  $("import-button").disabled = true;
  try {
    const answer = await api("POST", "/api/v1/imports/myanimelist?" + query({ limit: 10, ...filters() }), form);
    const line = summaryLine(answer && answer.summary);
    out.textContent = line ? `Imported: ${line}.` : "Imported.";
    const recs = (answer && answer.recommendations) || {};
    // An imported list has no id to explain against: its cards carry the reason line, not "Why?".
    renderAnswer({ heading: "From your MyAnimeList", subject: null, strategy: null,
      context: { what: "your list" }, relevance: "recommended", load: null },
    { ...recs, continue: answer && answer.continue });
    drawGenreChart(answer && answer.preferences, "import-chart", "Genres of the anime you liked");
  } catch (e) {
    drawGenreChart(null, "import-chart");
    out.textContent = `Import failed: ${e.message}`;
    out.classList.add("error");
  } finally {
    $("import-button").disabled = false;
  }
}

// ---------------------------------------------------------------- genre chart

// The answer's genres ([{genre, weight, count}], weights: shares summing to 1) as [[name, weight]], top 12.
function genreWeights(prefs) {
  const raw = prefs && Array.isArray(prefs.genres) ? prefs.genres : [];
  return raw.map((g) => [g && g.genre, Number(g && g.weight)])
    .filter(([n, w]) => typeof n === "string" && n && isFinite(w) && w > 0)
    .sort((a, b) => b[1] - a[1]).slice(0, 12);
}

function pct(w) {
  return `${Math.round(w * 100)}%`;
}

// Draws the genres of prefs into the box (a known user's into #genre-chart, an imported list's into #import-chart).
function drawGenreChart(prefs, boxId = "genre-chart", caption = "Favourite genres") {
  const box = $(boxId);
  box.replaceChildren();
  const pairs = genreWeights(prefs);
  if (!pairs.length) return;
  const rowH = 20, labelW = 100, width = 300, barW = width - labelW - 42; // drawn at 300 px, scaled to the box
  const max = pairs[0][1];
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${pairs.length * rowH + 24}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${caption}: ` + pairs.map(([n, w]) => `${n} ${pct(w)}`).join(", "));
  const head = document.createElementNS(SVG_NS, "text");
  head.setAttribute("x", "0"); head.setAttribute("y", "14");
  head.textContent = caption;
  svg.append(head);
  pairs.forEach(([name, w], i) => {
    const y = 22 + i * rowH;
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", "0"); label.setAttribute("y", String(y + 13));
    label.textContent = name;
    const bar = document.createElementNS(SVG_NS, "rect");
    bar.setAttribute("class", "bar");
    bar.setAttribute("x", String(labelW)); bar.setAttribute("y", String(y + 2));
    bar.setAttribute("height", String(rowH - 6));
    bar.setAttribute("width", String(Math.max(1, (barW * w) / max)));
    bar.setAttribute("data-genre", name);
    const value = document.createElementNS(SVG_NS, "text");
    value.setAttribute("x", String(labelW + (barW * w) / max + 4)); value.setAttribute("y", String(y + 13));
    value.textContent = pct(w);
    svg.append(label, bar, value);
  });
  box.append(svg);
}

// ---------------------------------------------------------------- start

function initGenres() {
  const box = $("genre-options");
  for (const g of GENRES) {
    const input = el("input", { type: "checkbox", value: g });
    input.addEventListener("change", () => {
      const n = document.querySelectorAll("#genre-options input:checked").length;
      $("genre-count").textContent = n ? `${n} selected` : "any";
    });
    box.append(el("label", {}, input, " " + g));
  }
}

function initProfiles() {
  const box = $("profiles");
  for (const p of PROFILES) {
    const b = el("button", { type: "button", class: "secondary profile", "data-profile": p.key,
      title: p.liked.map(([, t]) => t).join(", ") }, p.label);
    b.addEventListener("click", () => useProfile(p));
    box.append(el("li", {}, b));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  initGenres();
  initProfiles();
  loadLists();
  $("search-form").addEventListener("submit", search);
  $("user-form").addEventListener("submit", recommendForUser);
  $("import-form").addEventListener("submit", importList);
  $("fav-recommend").addEventListener("click", recommendFromFavourites);
  $("fav-clear").addEventListener("click", () => {
    lists.liked.clear();
    lists.disliked.clear();
    saveLists();
    renderLists();
  });
  $("results-more").addEventListener("click", loadMore);
  window.addEventListener("storage", (e) => { // another tab changed the lists
    if (e.key === STORE_KEY) { loadLists(); renderLists(); }
  });
  renderLists();
});
