"""The web page in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Accessibility: axe-core (tests/browser's npm lock, `make install` runs `npm ci`) on the main states at
1280 px and 390 px. Screenshots of the main flows go to artifacts/screenshots/ (git-ignored, archived by CI).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_fakes import LONG_LIST_SIZE, LONG_USER, Stack
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = ROOT / "tests/browser/node_modules/axe-core/axe.min.js"
SCREENSHOTS = ROOT / "artifacts/screenshots"
AXE_URL = "/__test__/axe.min.js"  # served by a Playwright route: same origin, so the page's CSP allows it
STORE_KEY = "animerec.lists.v1"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE, NARROW = 1280, 390

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian package `chromium`; `make install` adds it)",
    ),
]

STATUS_WORDS = {1: "Watching", 2: "Completed", 3: "On-Hold", 4: "Dropped", 6: "Plan to Watch"}
# A MyAnimeList export of the fake catalogue (gateway_fakes.CATALOGUE): (anime_id, score, status code).
# Scores 10, 9, 4 (mean 7.7): Fullmetal Alchemist: Brotherhood and Attack on Titan liked, Death Note disliked;
# Spirited Away planned; two ids the catalogue does not know, watched unscored.
MY_LIST = [(5114, 10, 2), (16498, 9, 2), (1535, 4, 2), (199, 0, 6), (48000, 0, 2), (48001, 0, 1)]
MY_SUMMARY = "6 entries, 4 matched, 2 not in the catalogue"
# Billion laughs: nine levels of ten entity references, a gigabyte of "lol" once expanded.
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    + "]>\n<myanimelist><anime><series_animedb_id>1</series_animedb_id><my_status>Completed</my_status>"
    "<my_score>&lol9;</my_score></anime></myanimelist>\n"
).encode()


def mal_export(rows: list[tuple[int, int, int]]) -> bytes:
    """Returns an export as MyAnimeList's "Export" writes it (animelist_*.xml), for rows (anime_id, score, status)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        "<!--\n Created by XML Export feature at MyAnimeList.net\n Version 1.1.0\n-->",
        "<myanimelist>",
        "\t<myinfo>\n\t\t<user_id>1234567</user_id>\n\t\t<user_name>someone</user_name>\n"
        f"\t\t<user_export_type>1</user_export_type>\n\t\t<user_total_anime>{len(rows)}</user_total_anime>\n\t</myinfo>",
    ]
    for anime_id, score, status in rows:
        out.append(
            f"\t<anime>\n\t\t<series_animedb_id>{anime_id}</series_animedb_id>\n"
            f"\t\t<series_title><![CDATA[Anime {anime_id} & <friends>]]></series_title>\n"
            "\t\t<series_type>TV</series_type>\n\t\t<series_episodes>12</series_episodes>\n"
            f"\t\t<my_watched_episodes>{12 if status == 2 else 0}</my_watched_episodes>\n"
            f"\t\t<my_score>{score}</my_score>\n\t\t<my_status>{STATUS_WORDS[status]}</my_status>\n"
            "\t\t<my_comments><![CDATA[]]></my_comments>\n\t\t<update_on_import>0</update_on_import>\n\t</anime>"
        )
    out.append("</myanimelist>\n")
    return "\n".join(out).encode()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(costly_per_minute=100_000) as s:  # imports cost 10 tokens, short searches 1
        yield s


@pytest.fixture(scope="module")
def strict_stack() -> Iterator[Stack]:
    """A gateway with tiny import caps (2 KiB uploads, 4 KiB of XML) and no recommender behind it."""
    with Stack(
        down=("recommender",), costly_per_minute=100_000, import_max_upload_bytes=2048, import_max_xml_bytes=4096
    ) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Browser, stack: Stack) -> Iterator[Callable[..., Page]]:
    """Opens the page at a viewport width; after the test: no JS error, no CSP violation, nothing from outside."""
    contexts = []
    problems: list[str] = []
    outside: list[str] = []

    def open_(width: int = WIDE, on: Stack | None = None) -> Page:
        base = (on or stack).url
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        # HTTP errors the page handles (e.g. the unknown user's 404) are logged as "Failed to load resource";
        # anything else (a JS error, a CSP violation) fails the test.
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
        page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
        page.goto(base + "/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == [], problems  # no JS errors, no CSP violations
    assert outside == [], outside  # nothing fetched from outside the gateway


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page(WIDE)


def shot(page: Page, name: str) -> None:
    """Saves a full-page screenshot as artifacts/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Returns axe-core's serious and critical violations of the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate("async () => JSON.parse(JSON.stringify((await axe.run(document)).violations))")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def sent_cold_start(stack: Stack) -> dict[str, Any]:
    """The last body the fake recommender's POST /recommendations got (not an explanation's)."""
    return next(b for b in reversed(stack.world.bodies) if "liked" in b and "anime_id" not in b)


def upload(page: Page, path: Path, data: bytes) -> None:
    """Writes data to path and imports it through the page's file input (the real bytes go to the gateway)."""
    path.write_bytes(data)
    page.set_input_files("#mal-file", str(path))
    page.click("#import-button")


def search(page: Page, q: str) -> None:
    page.fill("#search-input", q)
    page.click("#search-button")
    page.locator("#search-results li[data-anime-id]").first.wait_for()  # not the "searching…" placeholder


def tab_to(page: Page, selector: str, presses: int = 80) -> None:
    """Presses Tab until the focused element matches selector (fails when it never does)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_search_then_similar_cards_then_explanation(page, stack):
    search(page, "fullmetal")
    first = page.locator("#search-results li[data-anime-id]").first
    expect(first).to_contain_text("Fullmetal Alchemist: Brotherhood")
    expect(first).to_contain_text("2009 · TV")
    first.locator("button.similar").click()
    cards = page.locator("#results .card")
    cards.first.wait_for()
    assert cards.count() == 5
    assert "Similar to Fullmetal Alchemist: Brotherhood" in page.inner_text("#status")
    assert page.inner_text("#results-h") == "Similar to Fullmetal Alchemist: Brotherhood"
    text = cards.first.inner_text()
    assert "score 8.16" in text and "Adventure" in text
    # A similar-anime list's relevance is the similarity of the two anime, in percent.
    assert cards.first.locator(".match").inner_text() == "90% similar"
    assert cards.first.locator(".facts").inner_text() == "2009 · TV"  # no episodes in the item: left out
    # No `url` in the item: the link is built from the anime id.
    link = cards.first.locator("h3 a")
    assert link.inner_text() == "Fullmetal Alchemist"
    assert link.get_attribute("href") == "https://myanimelist.net/anime/121"
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    # One reason line per card, not the list of every component.
    assert cards.first.locator(".reason").inner_text() == "Liked by the same people as Fullmetal Alchemist: Brotherhood"
    why = cards.first.locator("details.why")
    expect(why.locator(".explanation")).to_be_hidden()
    why.locator("summary").click()
    explanation = why.locator(".explanation")
    expect(explanation).to_contain_text("It shares Action with your favourites.")
    expect(explanation).to_contain_text("Built from facts the system computed.")
    assert stack.world.bodies[-1] == {"liked": [5114], "anime_id": 121}
    # A template text says what the facts list says: it is not shown twice.
    assert explanation.locator("p.text").count() == 0
    # Closing and opening again does not ask again.
    asked = len(stack.world.bodies)
    why.locator("summary").click()
    why.locator("summary").click()
    expect(explanation).to_be_visible()
    assert len(stack.world.bodies) == asked


def test_user_recommendations_with_filters_and_genre_chart(page, stack):
    page.select_option("#filter-type", "Movie")
    page.click("#filter-genres summary")
    page.check("#genre-options input[value='Drama']")
    page.fill("#user-id", "7")
    page.click("#user-button")
    page.locator("#results .card").first.wait_for()
    titles = page.locator("#results .card h3").all_inner_texts()
    assert titles == ["Steins;Gate", "Death Note", "Spirited Away"]
    # A recommendation's relevance: relative to the top recommendation, in percent.
    assert page.locator("#results .card .match").all_inner_texts() == ["match 90%", "match 80%", "match 70%"]
    # sources ["franchise", "item_item"]: the strongest component gives the reason
    assert page.locator("#results .card .reason").first.inner_text() == "From a franchise you like"
    sent = next(p for p in reversed(stack.world.params) if "genre" in p)  # the recommendations, not preferences
    assert sent["type"] == "Movie" and sent["genre"] == "Drama"
    assert "include_adult" not in sent  # values at the contract's defaults are the recommender's too: not sent
    bars = page.locator("#genre-chart svg rect.bar")
    bars.first.wait_for()
    assert [bars.nth(i).get_attribute("data-genre") for i in range(bars.count())] == ["Action", "Drama", "Sci-Fi"]
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(3)]
    assert widths[0] > widths[1] > widths[2]
    second = page.locator("#results .card").nth(1)
    second.locator("details.why summary").click()
    expect(second.locator(".explanation")).to_contain_text("It shares Action")
    assert stack.world.bodies[-1] == {"user_id": 7, "anime_id": 1535, "strategy": "hybrid"}


def test_continue_watching_section_and_franchise_counts(page, stack):
    expect(page.locator("#continue-panel")).to_be_hidden()
    page.fill("#user-id", "7")
    page.click("#user-button")
    page.locator("#results .card").first.wait_for()
    panel = page.locator("#continue-panel")
    expect(panel).to_be_visible()
    assert panel.locator("h2").inner_text() == "Continue watching"
    expect(page.locator("#status")).to_contain_text("3 anime · 1 to continue")
    # Discovery cards: a franchise's stand-in says how many other entries it has; standalones say nothing.
    discovery = page.locator("#results .card")
    assert discovery.locator("h3").all_inner_texts() == ["Steins;Gate", "Death Note", "Spirited Away"]
    toggle = discovery.nth(0).locator("button.franchise")
    assert toggle.inner_text() == "+2 more in this franchise"
    assert discovery.nth(1).locator(".franchise").count() == 0 and discovery.nth(2).locator(".franchise").count() == 0
    # Expanding it asks for the other entries (the fake's catalogue has none of Steins;Gate's).
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    expect(discovery.nth(0).locator(".franchise-list")).to_have_text("no other entries")
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    expect(discovery.nth(0).locator(".franchise-list")).to_be_hidden()
    # Continue cards: apart from discovery, the same card markup and buttons.
    cont = page.locator("#continue .card")
    assert cont.count() == 1 and cont.first.get_attribute("data-anime-id") == "5114"
    assert cont.first.locator("h3").inner_text() == "Fullmetal Alchemist: Brotherhood"
    assert "score 9.19" in cont.first.locator(".numbers").inner_text()
    assert cont.first.locator(".reason").inner_text() == "From a franchise you like"
    assert cont.first.locator(".franchise").count() == 0
    cont.first.locator("details.why summary").click()
    expect(cont.first.locator(".explanation")).to_contain_text("It shares Action")
    assert stack.world.bodies[-1] == {"user_id": 7, "anime_id": 5114, "strategy": "hybrid"}
    # A similar-anime list has no continue list: the section goes away.
    cont.first.locator("button.similar").click()
    expect(page.locator("#status")).to_contain_text("Similar to Fullmetal Alchemist: Brotherhood")
    expect(panel).to_be_hidden()
    assert page.locator("#continue .card").count() == 0


def test_franchise_entries_listed_on_demand(page, stack):
    search(page, "steins")
    page.locator("#search-results li[data-anime-id='9253'] button.similar").click()
    card = page.locator("#results .card[data-anime-id='5114']")
    toggle = card.locator("button.franchise")
    assert toggle.inner_text() == "+1 more in this franchise"
    expect(card.locator(".franchise-list")).to_be_hidden()
    toggle.click()
    entry = card.locator(".franchise-list li[data-anime-id='121']")
    expect(entry).to_have_text("Fullmetal Alchemist 2003 · TV · 51 episodes")
    assert entry.locator("a").get_attribute("href") == "https://myanimelist.net/anime/121"
    assert toggle.get_attribute("aria-expanded") == "true"
    assert card.locator(".franchise-list").get_attribute("id") == toggle.get_attribute("aria-controls")
    asked = len(stack.world.params)
    toggle.click()
    toggle.click()  # shown again from what was fetched
    expect(entry).to_be_visible()
    assert len(stack.world.params) == asked


def test_cold_start_continue_list_from_a_liked_franchise(page, stack):
    search(page, "fullmetal alchemist: brotherhood")
    page.locator("#search-results li[data-anime-id='5114'] button.add-fav").click()
    page.click("#fav-recommend")
    expect(page.locator("#continue-panel")).to_be_visible()
    assert page.locator("#continue .card h3").all_inner_texts() == ["Fullmetal Alchemist"]
    page.locator("#continue .card details.why summary").click()
    expect(page.locator("#continue .card .explanation")).to_contain_text("It shares Action")
    assert stack.world.bodies[-1] == {"liked": [5114], "anime_id": 121}


def test_favourites_give_cold_start_recommendations(page, stack):
    search(page, "a")
    page.locator("#search-results li[data-anime-id='9253'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='1535'] button.add-fav").click()
    assert page.locator("#favourites li").count() == 2
    assert page.locator("#search-results li[data-anime-id='9253'] button.add-fav").get_attribute("aria-pressed") == (
        "true"
    )
    with page.expect_request("**/api/v1/recommendations") as asked:
        page.click("#fav-recommend")
    # The page asks with `limit` (not the deprecated `n`), and only the first page.
    assert asked.value.post_data_json == {"liked": [9253, 1535], "include_adult": False, "limit": 12}
    expect(page.locator("#status")).to_contain_text("From your favourites: 4 anime")
    ids = [int(x) for x in page.locator("#results .card").evaluate_all("els => els.map(e => e.dataset.animeId)")]
    assert 9253 not in ids and 1535 not in ids and len(ids) == 4
    body = sent_cold_start(stack)
    assert body == {"liked": [9253, 1535], "limit": 12}  # the page's other values are the contract's defaults
    expect(page.locator("#results-more")).to_be_hidden()  # pagination.has_next is false
    expect(page.locator("#continue-panel")).to_be_hidden()  # no franchise of theirs has more entries


def test_dislike_takes_the_favourite_back_and_is_sent(page, stack):
    search(page, "a")
    page.locator("#search-results li[data-anime-id='9253'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='5114'] button.add-fav").click()
    page.click("#fav-recommend")
    card = page.locator("#results .card[data-anime-id='1535']")
    card.locator("button.dislike").click()
    expect(page.locator("#dislikes li[data-anime-id='1535']")).to_have_text("Death Note×")
    assert card.locator("button.dislike").get_attribute("aria-pressed") == "true"
    # Disliking a favourite takes it out of the favourites: an id is never in both lists (the API's 422).
    page.locator("#continue .card[data-anime-id='121'] button.fav").click()
    page.locator("#continue .card[data-anime-id='121'] button.dislike").click()
    assert page.locator("#favourites li[data-anime-id='121']").count() == 0
    assert page.locator("#dislikes li[data-anime-id='121']").count() == 1
    # ...and the other way round.
    card.locator("button.fav").click()
    assert page.locator("#dislikes li[data-anime-id='1535']").count() == 0
    assert page.locator("#favourites li[data-anime-id='1535']").count() == 1
    assert card.locator("button.dislike").get_attribute("aria-pressed") == "false"
    page.click("#fav-recommend")
    expect(page.locator("#results .card[data-anime-id='1535']")).to_have_count(0)
    body = sent_cold_start(stack)
    assert body["liked"] == [9253, 5114, 1535] and body["disliked"] == [121]
    # Removing a chip un-marks it.
    page.locator("#dislikes li[data-anime-id='121'] button.remove").click()
    expect(page.locator("#dislikes-box")).to_be_hidden()


def test_favourites_and_dislikes_persist_across_reloads(page, stack):
    search(page, "a")
    page.locator("#search-results li[data-anime-id='9253'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='1535'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='1535'] button.similar").click()
    page.locator("#results .card[data-anime-id='199'] button.dislike").click()
    page.reload()
    assert page.locator("#favourites li").evaluate_all("els => els.map(e => e.dataset.animeId)") == ["9253", "1535"]
    assert page.locator("#favourites li").first.inner_text().startswith("Steins;Gate")
    assert page.locator("#dislikes li").evaluate_all("els => els.map(e => e.dataset.animeId)") == ["199"]
    expect(page.locator("#fav-recommend")).to_be_enabled()
    page.click("#fav-recommend")
    expect(page.locator("#status")).to_contain_text("From your favourites")
    body = sent_cold_start(stack)
    assert body["liked"] == [9253, 1535] and body["disliked"] == [199]
    page.click("#fav-clear")
    page.reload()
    assert page.locator("#favourites li").count() == 0
    expect(page.locator("#fav-recommend")).to_be_disabled()


@pytest.mark.parametrize(
    "stored",
    [
        "{not json",
        "null",
        '"a string"',
        "[1, 2]",
        '{"liked": "9253", "disliked": {"a": 1}}',
        '{"liked": [[9253, "Steins;Gate"], [-1, "bad"], ["1535", "id as text"], [1.5, "x"], 7, null, [199]],'
        ' "disliked": [[9253, "in both"], [16498, {"title": "not a string"}]]}',
    ],
)
def test_corrupt_stored_lists_are_ignored(open_page, stack, stored):
    page = open_page(WIDE)
    page.evaluate("([k, v]) => window.localStorage.setItem(k, v)", [STORE_KEY, stored])
    page.reload()
    liked = page.locator("#favourites li").evaluate_all("els => els.map(e => e.dataset.animeId)")
    disliked = page.locator("#dislikes li").evaluate_all("els => els.map(e => e.dataset.animeId)")
    if stored.startswith('{"liked": [['):
        assert liked == ["9253", "199"] and disliked == ["16498"]  # the good entries kept, 9253 only liked
        assert page.locator("#favourites li[data-anime-id='199']").inner_text().startswith("#199")
    else:
        assert liked == [] and disliked == []
    # The page still works and writes a clean value back.
    search(page, "death")
    page.locator("#search-results li[data-anime-id='1535'] button.add-fav").click()
    saved = json.loads(page.evaluate("(k) => window.localStorage.getItem(k)", STORE_KEY))
    assert [1535, "Death Note"] in saved["liked"]


def test_sample_profile_fills_the_favourites_and_recommends(page, stack):
    profiles = page.locator("#profiles button")
    assert profiles.all_inner_texts() == ["Shounen action fan", "Slice-of-life and romance", "Mecha and sci-fi"]
    page.click("#profiles button[data-profile='shounen']")
    expect(page.locator("#status")).to_contain_text("From your favourites")
    liked = page.locator("#favourites li").evaluate_all("els => els.map(e => Number(e.dataset.animeId))")
    assert liked == [5114, 16498, 11061, 20, 31964]
    assert sent_cold_start(stack)["liked"] == liked
    # The franchises of the profile's anime are continued, not discovered.
    ids = page.locator("#results .card").evaluate_all("els => els.map(e => Number(e.dataset.animeId))")
    assert not set(ids) & set(liked)
    assert page.locator("#continue .card h3").all_inner_texts() == ["Fullmetal Alchemist"]
    # Another profile replaces the lists (dislikes too).
    page.locator("#results .card[data-anime-id='1535'] button.dislike").click()
    page.click("#profiles button[data-profile='mecha']")
    expect(page.locator("#favourites li[data-anime-id='9253']")).to_have_count(1)
    expect(page.locator("#results .card[data-anime-id='9253']")).to_have_count(0)  # the new answer is in
    assert page.locator("#dislikes li").count() == 0
    assert sent_cold_start(stack)["liked"] == [1575, 2001, 30, 9253, 1]


@pytest.mark.parametrize("gzipped", [False, True], ids=["xml", "gzip"])
def test_import_renders_the_answer_with_the_same_cards(page, stack, tmp_path, gzipped):
    export = mal_export(MY_LIST)
    name = "animelist_1700000000_-_123.xml" + (".gz" if gzipped else "")
    with page.expect_request("**/api/v1/imports/myanimelist*") as asked:
        upload(page, tmp_path / name, gzip.compress(export) if gzipped else export)
    assert "/api/v1/imports/myanimelist?limit=10&include_adult=false" in asked.value.url
    assert asked.value.headers["content-type"].startswith("multipart/form-data; boundary=")
    expect(page.locator("#import-summary")).to_have_text(f"Imported: {MY_SUMMARY}.")
    expect(page.locator("#import-summary")).to_have_class("hint")
    expect(page.locator("#status")).to_have_text("From your MyAnimeList: 2 anime · 1 to continue · model v1")
    # The gateway read the file (gunzipped or not) and asked the recommender with the classified lists.
    assert stack.world.profile_bodies[-1] == {
        "liked": [5114, 16498],
        "disliked": [1535],
        "seen": [48000, 48001],
        "planned": [199],
        "limit": 10,
        "include_adult": False,
    }
    cards = page.locator("#results .card")
    assert cards.locator("h3").all_inner_texts() == ["Steins;Gate", "Spirited Away"]
    assert cards.locator(".match").all_inner_texts() == ["match 100%", "match 90%"]
    assert cards.first.locator(".facts").inner_text() == "2009 · TV"
    assert cards.first.locator("h3 a").get_attribute("href") == "https://myanimelist.net/anime/9253"
    assert cards.first.locator("button.franchise").inner_text() == "+2 more in this franchise"
    assert cards.first.locator(".reason").inner_text() == "Similar genres and story to your list"
    # Spirited Away is on the plan-to-watch list: recommended all the same, and marked.
    assert cards.nth(1).locator(".planned").inner_text() == "on your plan-to-watch list"
    assert cards.first.locator(".planned").count() == 0
    assert page.locator(".card details.why").count() == 0  # no liked ids to explain against
    expect(page.locator("#results-more")).to_be_hidden()  # an import answers one list, not pages
    # The liked Fullmetal Alchemist: Brotherhood: its franchise's other entry is continued.
    expect(page.locator("#continue-panel")).to_be_visible()
    assert page.locator("#continue .card h3").all_inner_texts() == ["Fullmetal Alchemist"]
    assert page.locator("#continue .card .reason").inner_text() == "From a franchise you like"
    # The genres of the liked anime, beside the import (not in the user panel, which is about a known user).
    expect(page.locator("#genre-chart svg")).to_have_count(0)
    bars = page.locator("#import-chart svg rect.bar")
    assert [bars.nth(i).get_attribute("data-genre") for i in range(bars.count())] == [
        "Action",
        "Drama",
        "Fantasy",
        "Adventure",
    ]
    assert page.locator("#import-chart svg").get_attribute("aria-label") == (
        "Genres of the anime you liked: Action 29%, Drama 29%, Fantasy 29%, Adventure 14%"
    )
    if not gzipped:
        shot(page, "import")


# What the gateway refuses (before the recommender is asked) or the recommender refuses, as the page shows it.
HOSTILE = {
    "billion-laughs": (
        "list.xml",
        BILLION_LAUGHS,
        "the XML declares a DTD, entities or external references, which no export has (DTDForbidden)",
    ),
    "xxe": (
        "list.xml",
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><myanimelist>&x;</myanimelist>',
        "the XML declares a DTD, entities or external references, which no export has (DTDForbidden)",
    ),
    "malformed": (
        "list.xml",
        mal_export(MY_LIST)[:-40],
        "malformed XML at line ",
    ),
    "not-an-export": ("feed.xml", b"<rss><channel/></rss>", "not a MyAnimeList export: the root element is <rss>"),
    "corrupt-gzip": ("list.xml.gz", b"\x1f\x8b\x08\x00garbage-garbage-garbage", "the gzip file is corrupt"),
    "empty": ("list.xml", mal_export([]), "the export lists no anime"),
    "nothing-known": (
        "list.xml",
        mal_export([(48000, 9, 2), (48001, 0, 2)]),
        "none of the list's liked or watched anime is in the catalogue: nothing to recommend from",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_or_useless_exports_show_the_apis_error(page, stack, tmp_path, case):
    name, data, message = HOSTILE[case]
    asked = len(stack.world.profile_bodies)
    upload(page, tmp_path / name, data)
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text(f"Import failed: {message}")
    expect(summary).to_have_class("hint error")
    expect(page.locator("#import-button")).to_be_enabled()
    assert page.locator("#results .card").count() == 0  # nothing rendered from a refused file
    expect(page.locator("#import-chart svg")).to_have_count(0)
    # Only a readable export reaches the recommender (which then finds none of it in its catalogue).
    assert len(stack.world.profile_bodies) == asked + (case == "nothing-known")


def test_import_caps_and_a_missing_recommender_show_the_apis_error(open_page, strict_stack, tmp_path):
    page = open_page(WIDE, on=strict_stack)
    summary = page.locator("#import-summary")
    page.click("#import-button")
    expect(summary).to_have_text("Choose your MyAnimeList export file first.")
    expect(summary).to_have_class("hint error")
    # 413: the upload is over the cap (2 KiB here) ...
    upload(page, tmp_path / "big.xml", mal_export(MY_LIST * 4))
    expect(summary).to_have_text("Import failed: the uploaded file is larger than 2,048 bytes")
    # ... or a small gzip inflates past the XML cap (a gzip bomb: refused once it passes 4 KiB).
    bomb = gzip.compress(b"<myanimelist>" + b" " * 1_000_000 + b"</myanimelist>")
    assert len(bomb) < 2048
    upload(page, tmp_path / "bomb.xml.gz", bomb)
    expect(summary).to_have_text("Import failed: the XML (after gunzip) is larger than 4,096 bytes")
    # A good export, and the recommender is down: the gateway's own error.
    upload(page, tmp_path / "list.xml", mal_export(MY_LIST[:2]))
    expect(summary).to_have_text("Import failed: the recommender service is unavailable")
    expect(summary).to_have_class("hint error")
    expect(page.locator("#import-button")).to_be_enabled()


def test_import_error_page_outside_the_error_schema(page, tmp_path):
    # A proxy in front of the gateway answering its own page: the gateway itself always answers JSON errors.
    page.route(
        "**/api/v1/imports/myanimelist*",
        lambda route: route.fulfill(status=502, content_type="text/html", body="<html>Bad Gateway</html>"),
    )
    upload(page, tmp_path / "list.xml", mal_export(MY_LIST))
    expect(page.locator("#import-summary")).to_have_text("Import failed: request failed (502)")
    expect(page.locator("#import-summary")).to_have_class("hint error")


def test_show_more_pages_through_a_long_list(page, stack):
    page.fill("#user-id", str(LONG_USER))
    page.click("#user-button")
    cards = page.locator("#results .card")
    expect(cards).to_have_count(12)
    more = page.locator("#results-more")
    expect(more).to_be_visible()
    expect(page.locator("#status")).to_contain_text(f"For user {LONG_USER} (hybrid): 12 anime")
    assert cards.first.locator(".match").inner_text() == "match 100%"
    with page.expect_request(f"**/api/v1/users/{LONG_USER}/recommendations?*") as asked:
        more.click()
    assert "limit=12" in asked.value.url and "page=2" in asked.value.url
    expect(cards).to_have_count(24)
    expect(page.locator(f"#results .card[data-anime-id='{30001 + 12}'] h3 a")).to_be_focused()  # the first new card
    expect(more).to_be_visible()
    more.click()
    expect(cards).to_have_count(LONG_LIST_SIZE)
    expect(more).to_be_hidden()  # the last page: has_next false
    expect(page.locator("#status")).to_have_text(f"For user {LONG_USER} (hybrid): {LONG_LIST_SIZE} anime")
    ids = cards.evaluate_all("els => els.map(e => Number(e.dataset.animeId))")
    assert ids == list(range(30001, 30001 + LONG_LIST_SIZE))  # pages in order, none twice


def test_unknown_user_shows_the_cold_start_hint(page):
    page.fill("#user-id", "404")
    page.click("#user-button")
    expect(page.locator("#status")).to_have_class("status error")
    assert "From your favourites" in page.inner_text("#status")


def test_keyboard_only_flow(page, stack):
    # search
    tab_to(page, "#search-input")
    page.keyboard.type("fullmetal")
    page.keyboard.press("Enter")
    page.locator("#search-results li[data-anime-id]").first.wait_for()
    # favourite
    tab_to(page, "#search-results li[data-anime-id='5114'] button.add-fav")
    page.keyboard.press("Enter")
    expect(page.locator("#favourites li[data-anime-id='5114']")).to_have_count(1)
    # recommend
    tab_to(page, "#fav-recommend")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("From your favourites")
    # why
    tab_to(page, "#results .card details.why summary")
    page.keyboard.press("Enter")
    expect(page.locator("#results .card .explanation").first).to_contain_text("It shares Action")
    # the franchise of a card, and a dislike, from the keyboard too
    tab_to(page, "#results .card button.franchise")
    page.keyboard.press("Enter")
    expect(page.locator("#results .card button.franchise[aria-expanded='true']")).to_have_count(1)
    tab_to(page, "#results .card button.dislike")
    page.keyboard.press("Space")
    expect(page.locator("#dislikes li")).to_have_count(1)
    # a sample profile
    page.keyboard.press("Shift+Tab")  # backwards works as well
    page.evaluate("() => document.activeElement.blur()")
    tab_to(page, "#profiles button[data-profile='slice-of-life']")
    page.keyboard.press("Enter")
    expect(page.locator("#favourites li[data-anime-id='4224']")).to_have_count(1)


@pytest.mark.skipif(not AXE.exists(), reason=f"no {AXE.relative_to(ROOT)} (`make install` runs npm ci)")
@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_accessibility_and_screenshots_of_the_main_states(open_page, stack, width, tmp_path):
    page = open_page(width)
    found: dict[str, list[dict[str, Any]]] = {}

    def check(state: str) -> None:
        shot(page, state)
        found[state] = axe_violations(page)

    check("1-initial")
    search(page, "a")
    check("2-search-results")
    page.locator("#search-results li[data-anime-id='5114'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='9253'] button.add-fav").click()
    page.click("#fav-recommend")
    page.locator("#results .card").first.wait_for()
    page.locator("#results .card[data-anime-id='1535'] button.dislike").click()
    check("3-recommendations")
    page.locator("#results .card details.why summary").first.click()
    expect(page.locator("#results .card .explanation").first).to_contain_text("It shares Action")
    page.locator("#results .card button.franchise").first.click()
    expect(page.locator("#results .card .franchise-list li").first).to_be_visible()
    check("4-explanation-open")
    page.click("#profiles button[data-profile='mecha']")
    expect(page.locator("#favourites li[data-anime-id='1575']")).to_have_count(1)
    page.fill("#user-id", "7")
    page.click("#user-button")
    page.locator("#genre-chart svg").wait_for()
    check("5-user-recommendations")
    upload(page, tmp_path / "animelist.xml", mal_export(MY_LIST))
    expect(page.locator("#import-summary")).to_have_text(f"Imported: {MY_SUMMARY}.")
    check("6-import")
    upload(page, tmp_path / "laughs.xml", BILLION_LAUGHS)
    expect(page.locator("#import-summary")).to_have_class("hint error")
    check("7-import-refused")
    assert {state: v for state, v in found.items() if v} == {}


def test_untrusted_text_stays_text_under_the_pages_csp(page, stack):
    response = page.reload()
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "connect-src 'self'" in csp
    hostile = "<img src=x onerror=\"document.title='owned'\">Evil</b>"
    item = {
        "anime_id": 666,
        "title": hostile,
        "name": hostile,
        "genres": ["<script>x</script>"],
        "type": "<i>TV</i>",
        "year": 2020,
        "episodes": None,
        "url": "javascript:alert(1)",  # not a MyAnimeList address: the link is built from the id
        "relevance": 0.5,
        "franchise": {"id": 666, "size": 2},
        "sources": ["content"],
    }
    page.route(
        "**/api/v1/anime?*",
        lambda route: route.fulfill(content_type="application/json", body=json.dumps({"items": [item]})),
    )
    page.route(
        "**/api/v1/anime/666/similar*",
        lambda route: route.fulfill(content_type="application/json", body=json.dumps({"items": [item]})),
    )
    search(page, "evil")
    row = page.locator("#search-results li[data-anime-id='666']")
    assert hostile in row.inner_text()
    row.locator("button.similar").click()
    card = page.locator("#results .card[data-anime-id='666']")
    expect(card.locator("h3")).to_have_text(hostile)
    assert card.locator("h3 a").get_attribute("href") == "https://myanimelist.net/anime/666"
    assert card.locator(".facts").inner_text() == "2020 · <i>TV</i>"
    assert page.locator("img, script:not([src]), i").count() == 0
    assert page.title() != "owned"
