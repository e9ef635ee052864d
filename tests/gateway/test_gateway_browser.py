"""The web page in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gateway_fakes import Stack
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian package `chromium`; `make install` adds it)",
    ),
]


@pytest.fixture(scope="module")
def stack():
    with Stack() as s:
        yield s


@pytest.fixture(scope="module")
def page_factory():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(page_factory, stack):
    context = page_factory.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    # HTTP errors the page handles (e.g. the unknown user's 404) are logged as "Failed to load resource";
    # anything else (a JS error, a CSP violation) fails the test.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack.url, "data:")) else None)
    page.goto(stack.url + "/")
    yield page
    context.close()
    assert problems == [], problems  # no JS errors, no CSP violations
    assert outside == [], outside  # nothing fetched from outside the gateway


def test_search_then_similar_cards_then_explanation(page, stack):
    page.fill("#search-input", "fullmetal")
    page.click("#search-button")
    first = page.locator("#search-results li[data-anime-id]").first  # not the "searching…" placeholder
    expect(first).to_contain_text("Fullmetal Alchemist: Brotherhood")
    first.locator("button.similar").click()
    cards = page.locator("#results .card")
    cards.first.wait_for()
    assert cards.count() == 5
    assert "Similar to Fullmetal Alchemist: Brotherhood" in page.inner_text("#status")
    assert "score 8.16" in cards.first.inner_text() and "Adventure" in cards.first.inner_text()
    assert "match 0.900" in cards.first.inner_text()
    assert cards.first.locator(".sources").inner_text() == "why: rating patterns"
    cards.first.locator("button.why").click()
    explanation = cards.first.locator(".explanation")
    expect(explanation).to_contain_text("shares Action")
    assert stack.world.bodies[-1] == {"liked": [5114], "anime_id": 121}


def test_user_recommendations_with_filters_and_genre_chart(page, stack):
    page.select_option("#filter-type", "Movie")
    page.click("#filter-genres summary")
    page.check("#genre-options input[value='Drama']")
    page.fill("#user-id", "7")
    page.click("#user-button")
    page.locator("#results .card").first.wait_for()
    titles = page.locator("#results .card h3").all_inner_texts()
    assert titles == ["Steins;Gate", "Death Note", "Spirited Away"]
    assert page.locator("#results .card .sources").first.inner_text() == "why: same franchise · watched together"
    sent = next(p for p in reversed(stack.world.params) if "genre" in p)  # the recommendations, not preferences
    assert sent["type"] == "Movie" and sent["genre"] == "Drama"
    assert "include_adult" not in sent  # values at the contract's defaults are the recommender's too: not sent
    bars = page.locator("#genre-chart svg rect.bar")
    bars.first.wait_for()
    assert [bars.nth(i).get_attribute("data-genre") for i in range(bars.count())] == ["Action", "Drama", "Sci-Fi"]
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(3)]
    assert widths[0] > widths[1] > widths[2]
    page.locator("#results .card").nth(1).locator("button.why").click()
    expect(page.locator("#results .card").nth(1).locator(".explanation")).to_contain_text("Death Note shares")
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
    assert discovery.nth(0).locator(".franchise").inner_text() == "+2 more in this franchise"
    assert discovery.nth(1).locator(".franchise").count() == 0 and discovery.nth(2).locator(".franchise").count() == 0
    # Continue cards: apart from discovery, the same card markup and buttons.
    cont = page.locator("#continue .card")
    assert cont.count() == 1 and cont.first.get_attribute("data-anime-id") == "5114"
    assert cont.first.locator("h3").inner_text() == "Fullmetal Alchemist: Brotherhood"
    assert "score 9.19" in cont.first.locator(".numbers").inner_text()
    assert cont.first.locator(".sources").inner_text() == "why: same franchise · watched together"
    assert cont.first.locator(".franchise").count() == 0
    cont.first.locator("button.why").click()
    expect(cont.first.locator(".explanation")).to_contain_text("Fullmetal Alchemist: Brotherhood shares")
    assert stack.world.bodies[-1] == {"user_id": 7, "anime_id": 5114, "strategy": "hybrid"}
    # A similar-anime list has no continue list: the section goes away.
    cont.first.locator("button.similar").click()
    expect(page.locator("#status")).to_contain_text("Similar to Fullmetal Alchemist: Brotherhood")
    expect(panel).to_be_hidden()
    assert page.locator("#continue .card").count() == 0


def test_cold_start_continue_list_from_a_liked_franchise(page, stack):
    page.fill("#search-input", "fullmetal alchemist: brotherhood")
    page.click("#search-button")
    page.locator("#search-results li[data-anime-id='5114'] button.add-fav").click()
    page.click("#fav-recommend")
    expect(page.locator("#continue-panel")).to_be_visible()
    assert page.locator("#continue .card h3").all_inner_texts() == ["Fullmetal Alchemist"]
    page.locator("#continue .card button.why").click()
    expect(page.locator("#continue .card .explanation")).to_contain_text("Fullmetal Alchemist shares")
    assert stack.world.bodies[-1] == {"liked": [5114], "anime_id": 121}


def test_favourites_give_cold_start_recommendations(page, stack):
    page.fill("#search-input", "a")
    page.click("#search-button")
    page.locator("#search-results li[data-anime-id='9253'] button.add-fav").click()
    page.locator("#search-results li[data-anime-id='1535'] button.add-fav").click()
    assert page.locator("#favourites li").count() == 2
    page.click("#fav-recommend")
    expect(page.locator("#status")).to_contain_text("From your favourites: 4 anime")
    ids = [int(x) for x in page.locator("#results .card").evaluate_all("els => els.map(e => e.dataset.animeId)")]
    assert 9253 not in ids and 1535 not in ids and len(ids) == 4
    body = next(b for b in reversed(stack.world.bodies) if "liked" in b and "anime_id" not in b)
    assert body == {"liked": [9253, 1535], "n": 12}  # the page's other values are the contract's defaults
    expect(page.locator("#continue-panel")).to_be_hidden()  # no franchise of theirs has more entries


def test_unknown_user_shows_the_cold_start_hint(page):
    page.fill("#user-id", "404")
    page.click("#user-button")
    expect(page.locator("#status")).to_have_class("status error")
    assert "From your favourites" in page.inner_text("#status")
