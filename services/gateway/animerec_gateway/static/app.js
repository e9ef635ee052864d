// AnimeRec web page: plain JS against the gateway's /api/v1 (same origin). Titles and synopses are
// untrusted text: they only ever go into textContent, never into innerHTML.
"use strict";

const GENRES = ["Action", "Adventure", "Cars", "Comedy", "Dementia", "Demons", "Drama", "Ecchi", "Fantasy",
  "Game", "Harem", "Historical", "Horror", "Josei", "Kids", "Magic", "Martial Arts", "Mecha", "Military",
  "Music", "Mystery", "Parody", "Police", "Psychological", "Romance", "Samurai", "School", "Sci-Fi", "Seinen",
  "Shoujo", "Shoujo Ai", "Shounen", "Shounen Ai", "Slice of Life", "Space", "Sports", "Super Power",
  "Supernatural", "Thriller", "Vampire"];
const SVG_NS = "http://www.w3.org/2000/svg";
// What each ranking component means to a reader (item.sources names the components behind a card).
const SOURCE_WORDS = {
  item_item: "watched together", collaborative: "rating patterns", content: "genres and story",
  franchise: "same franchise", user_based: "similar users", popularity: "popular", quality: "well rated",
};
const $ = (id) => document.getElementById(id);
const favourites = new Map(); // anime_id -> title

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text || "";
  s.classList.toggle("error", Boolean(isError));
}

async function api(method, path, body) {
  const init = { method, headers: { "Accept": "application/json" } };
  if (body !== undefined) {
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

function titleOf(item) {
  return item.title || item.english_title || item.name || `#${item.anime_id}`;
}

function genresOf(item) {
  const g = item.genres;
  if (Array.isArray(g)) return g;
  if (typeof g === "string") return g.split(",").map((s) => s.trim()).filter(Boolean);
  return [];
}

function fmt(x, digits) {
  return typeof x === "number" && isFinite(x) ? x.toFixed(digits) : "–";
}

// subject: {user_id} or {liked}; strategy: the strategy that produced the list, if any.
// answer.items is the discovery list; answer.continue (recommendations only) goes to its own section.
function renderCards(heading, answer, subject, strategy) {
  const box = $("results");
  box.replaceChildren();
  const items = (answer && answer.items) || [];
  const next = (answer && Array.isArray(answer.continue)) ? answer.continue : [];
  const version = answer && answer.model_version ? ` · model ${answer.model_version}` : "";
  const more = next.length ? ` · ${next.length} to continue` : "";
  setStatus(`${heading}: ${items.length} anime${more}${version}`);
  for (const item of items) box.append(card(item, subject, strategy, true));
  const cont = $("continue");
  cont.replaceChildren(...next.map((item) => card(item, subject, strategy, false)));
  $("continue-panel").hidden = next.length === 0;
}

// One card; discovery cards also say how many other entries their franchise has.
function card(item, subject, strategy, discovery) {
  const match = item.similarity ?? item.relevance;
  const node = el("article", { class: "card", "data-anime-id": String(item.anime_id) },
    el("h3", {}, titleOf(item)),
    item.name && item.name !== titleOf(item) ? el("p", { class: "alt" }, item.name) : null,
    el("div", { class: "genres" }, ...genresOf(item).map((g) => el("span", {}, g))),
    el("div", { class: "numbers" },
      el("span", { class: "score" }, `score ${fmt(item.score, 2)}`),
      match !== undefined && match !== null ? el("span", { class: "match" }, `match ${fmt(match, 3)}`) : null,
      item.type ? el("span", {}, item.type) : null),
    sourcesLine(item),
    discovery ? franchiseLine(item) : null);
  const actions = el("div", { class: "actions" });
  if (subject) {
    const why = el("button", { type: "button", class: "why" }, "why?");
    why.addEventListener("click", () => explain(node, item.anime_id, subject, strategy, why));
    actions.append(why);
  }
  const similar = el("button", { type: "button", class: "secondary similar" }, "similar");
  similar.addEventListener("click", () => showSimilar(item.anime_id, titleOf(item)));
  actions.append(similar);
  node.append(actions);
  return node;
}

function franchiseLine(item) {
  const size = Number(item.franchise && item.franchise.size);
  if (!Number.isInteger(size) || size < 2) return null;
  return el("p", { class: "franchise" }, `+${size - 1} more in this franchise`);
}

function sourcesLine(item) {
  const words = (item.sources || []).map((s) => SOURCE_WORDS[s]).filter(Boolean);
  return words.length ? el("p", { class: "sources" }, `why: ${words.join(" · ")}`) : null;
}

async function explain(card, animeId, subject, strategy, button) {
  let out = card.querySelector(".explanation");
  if (!out) {
    out = el("p", { class: "explanation" });
    card.append(out);
  }
  out.textContent = "thinking…";
  button.disabled = true;
  try {
    const body = { ...subject, anime_id: animeId };
    if (strategy) body.strategy = strategy;
    const answer = await api("POST", "/api/v1/explanations", body);
    out.textContent = answer.text;
    out.title = `source: ${answer.source}`;
  } catch (e) {
    out.textContent = `No explanation: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

async function showSimilar(animeId, title) {
  setStatus(`Looking for anime similar to ${title}…`);
  try {
    const answer = await api("GET", `/api/v1/anime/${animeId}/similar?` + query({ n: 12, ...filters() }));
    const liked = { liked: [animeId] };
    renderCards(`Similar to ${title}`, answer, liked, null);
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
    const params = { q, limit: 15, ...filters() };
    const answer = await api("GET", "/api/v1/anime?" + query(params));
    list.replaceChildren();
    const items = answer.items || [];
    if (!items.length) list.append(el("li", { class: "meta" }, "no anime found"));
    for (const item of items) {
      const title = titleOf(item);
      const sim = el("button", { type: "button", class: "similar" }, "similar");
      sim.addEventListener("click", () => showSimilar(item.anime_id, title));
      const fav = el("button", { type: "button", class: "secondary add-fav" }, "+ favourite");
      fav.addEventListener("click", () => addFavourite(item.anime_id, title));
      list.append(el("li", { "data-anime-id": String(item.anime_id) },
        el("span", { class: "name" }, title,
          el("span", { class: "meta" }, ` ${item.type || ""} ${item.year ? Math.round(item.year) : ""}`)),
        sim, fav));
    }
  } catch (e) {
    list.replaceChildren(el("li", { class: "meta error" }, e.message));
  }
}

function addFavourite(id, title) {
  favourites.set(id, title);
  renderFavourites();
}

function renderFavourites() {
  const ul = $("favourites");
  ul.replaceChildren();
  for (const [id, title] of favourites) {
    const remove = el("button", { type: "button", title: "remove", "data-anime-id": String(id) }, "×");
    remove.addEventListener("click", () => { favourites.delete(id); renderFavourites(); });
    ul.append(el("li", { "data-anime-id": String(id) }, title, remove));
  }
  $("fav-recommend").disabled = favourites.size === 0;
}

async function recommendFromFavourites() {
  const liked = [...favourites.keys()];
  setStatus("Recommending from your favourites…");
  try {
    const f = filters();
    const body = { liked, n: 12, ...f };
    const answer = await api("POST", "/api/v1/recommendations", body);
    renderCards("From your favourites", answer, { liked }, null);
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function recommendForUser(event) {
  event.preventDefault();
  const userId = Number($("user-id").value);
  const strategy = $("user-strategy").value;
  setStatus(`Recommending for user ${userId}…`);
  const prefs = api("GET", `/api/v1/users/${userId}/preferences`).then(drawGenreChart, () => drawGenreChart(null));
  try {
    const answer = await api("GET", `/api/v1/users/${userId}/recommendations?` +
      query({ n: 12, strategy, ...filters() }));
    renderCards(`For user ${userId} (${strategy})`, answer, { user_id: userId }, strategy);
  } catch (e) {
    setStatus(e.code === "user_not_found" ? `${e.message} Try "From your favourites" instead.` : e.message, true);
  }
  await prefs;
}

// Accepts [{genre|name, weight}], or {genre: weight}; returns [[name, weight]] by weight, top 12.
function genreWeights(prefs) {
  const raw = prefs && (prefs.genres ?? prefs.favourite_genres ?? prefs.genre_weights);
  let pairs = [];
  if (Array.isArray(raw)) pairs = raw.map((g) => [g.genre ?? g.name, Number(g.weight ?? g.share ?? g.score)]);
  else if (raw && typeof raw === "object") pairs = Object.entries(raw).map(([k, v]) => [k, Number(v)]);
  return pairs.filter(([n, w]) => n && isFinite(w) && w > 0).sort((a, b) => b[1] - a[1]).slice(0, 12);
}

function drawGenreChart(prefs) {
  const box = $("genre-chart");
  box.replaceChildren();
  const pairs = genreWeights(prefs);
  if (!pairs.length) return;
  const rowH = 20, labelW = 110, width = 360, barW = width - labelW - 50;
  const max = pairs[0][1];
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${pairs.length * rowH + 24}`);
  svg.setAttribute("role", "img");
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = "Favourite genres (weight)";
  svg.append(title);
  const head = document.createElementNS(SVG_NS, "text");
  head.setAttribute("x", "0"); head.setAttribute("y", "14");
  head.textContent = "Favourite genres";
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
    value.textContent = w.toFixed(2);
    svg.append(label, bar, value);
  });
  box.append(svg);
}

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

document.addEventListener("DOMContentLoaded", () => {
  initGenres();
  $("search-form").addEventListener("submit", search);
  $("user-form").addEventListener("submit", recommendForUser);
  $("fav-recommend").addEventListener("click", recommendFromFavourites);
  renderFavourites();
});
