"""The web app in a real browser: headless Chromium (Debian's) driven by Playwright against
`morgue serve`, as a person uses it, with and without JavaScript; an accessibility check
with axe-core; screenshots at desktop and phone widths saved to tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.corpora import write_jsonl
from bench.load import Server
from indexer.writing import index_paths

playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"Chromium is not at {CHROMIUM}: run tests/run")


@pytest.fixture(scope="module")
def base(archive):
    with Server(archive.index_dir, environment=archive.settings.environment()) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        # Playwright gives each launch a new, empty profile directory of its own.
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


class Console:
    """What the pages of a context wrote to the console, and their uncaught errors."""

    def __init__(self, context):
        self.messages: list[str] = []
        context.on("console", lambda message: self.messages.append(
            f"{message.type}: {message.text}"))
        context.on("weberror", lambda error: self.messages.append(f"error: {error.error}"))

    def problems(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("error", "warning"))]


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=DESKTOP)
    context.console = Console(context)
    yield context
    problems = context.console.problems()
    context.close()
    assert problems == [], problems  # among them, any Content-Security-Policy violation


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def query_of(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def result_titles(page) -> list[str]:
    return [t.strip() for t in page.locator("ol.results h2 a").all_inner_texts()]


def result_dates(page) -> list[str]:
    return page.locator("ol.results .meta time").evaluate_all(
        "times => times.map(t => t.getAttribute('datetime'))")


def test_type_a_query_and_pick_a_suggestion_with_the_keyboard(page, base):
    page.goto(base + "/")
    box = page.get_by_role("combobox", name="Search the archive")
    box.press_sequentially("cocoa bah", delay=40)
    listbox = page.get_by_role("listbox", name="Suggestions")
    first = listbox.get_by_role("option").first
    playwright.expect(first).to_have_text("cocoa bahia")  # once the last letter is in
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        box.press("Enter")
    assert query_of(page.url)["q"] == ["cocoa bahia"]
    assert box.input_value() == "cocoa bahia"
    assert "BAHIA COCOA REVIEW" in result_titles(page)


def test_picking_a_title_suggestion_opens_that_article(page, base):
    page.goto(base + "/")
    page.get_by_role("combobox").press_sequentially("bahia coc", delay=40)
    option = page.get_by_role("option", name=re.compile("BAHIA COCOA REVIEW"))
    with page.expect_navigation():
        option.click()
    assert "/articles/" in page.url
    assert page.locator("h1").inner_text() == "BAHIA COCOA REVIEW"


def test_escape_closes_the_suggestions(page, base):
    page.goto(base + "/")
    box = page.get_by_role("combobox")
    box.press_sequentially("oil pri", delay=40)
    page.get_by_role("option").first.wait_for()
    box.press("Escape")
    assert page.locator("#suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"


def test_a_hostile_title_is_shown_as_text_in_suggestions_and_pages(page, tmp_path):
    title = "<img src=x onerror=alert(1)>Hostile <script>alert(2)</script>headline"
    write_jsonl(tmp_path / "a.jsonl", [{"id": "h", "title": title, "url": "javascript:alert(3)",
                                        "body": "Hostile text <b onclick=alert(4)>here</b>."}])
    index_paths([tmp_path], tmp_path / "index")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with Server(tmp_path / "index") as server:
        page.goto(server.url + "/")
        page.get_by_role("combobox").press_sequentially("hostile", delay=40)
        option = page.get_by_role("option", name=re.compile("Hostile"))
        assert option.inner_text().startswith(title)
        assert page.locator("#suggestions img, #suggestions script").count() == 0
        with page.expect_navigation():
            option.click()
        assert page.locator("h1").inner_text() == title
        assert page.get_by_role("link", name="Original page").count() == 0
    assert dialogs == []


def test_filter_by_a_facet_then_remove_it(page, base):
    page.goto(base + "/?q=oil")
    total = page.locator(".summary").inner_text()
    facet = page.locator("aside.facets section", has=page.get_by_role("heading", name="Month"))
    month = facet.get_by_role("link").first
    name = month.inner_text()
    month.click()
    page.wait_for_url(re.compile(r"month="))
    chip = page.get_by_role("link", name=f"Remove filter Month: {name}")
    assert chip.is_visible()
    assert all(d.startswith(name) for d in result_dates(page))
    chip.click()
    page.wait_for_url(re.compile(r"^[^?]*\?q=oil$"))
    assert page.locator("ul.chips").count() == 0
    assert page.locator(".summary").inner_text().split("(")[0] == total.split("(")[0]


def test_change_the_sort_and_page_forward(page, base):
    page.goto(base + "/?q=oil")
    page.locator("nav.sort").get_by_role("link", name="Oldest").click()
    page.wait_for_url(re.compile("sort=oldest"))
    first_page = result_dates(page)
    assert first_page == sorted(first_page, key=lambda d: d[:10]) and len(first_page) == 10
    assert page.locator("nav.sort [aria-current=true]").inner_text() == "Oldest"
    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile("page=2"))
    assert query_of(page.url)["sort"] == ["oldest"]
    assert page.locator("ol.results").get_attribute("start") == "11"
    assert result_dates(page)[0][:10] >= first_page[-1][:10]
    assert page.locator("nav.pages [aria-current=page]").inner_text() == "2"


def test_a_bar_of_the_timeline_narrows_to_its_period(page, base):
    page.goto(base + "/?q=security")
    bars = page.locator("figure.timeline a.bar")
    assert bars.count() > 1
    label = bars.first.get_attribute("aria-label")
    period = label.split(":")[0]
    bars.first.click()
    page.wait_for_url(re.compile(r"(year|month)="))
    assert page.get_by_role("link", name=re.compile(f"Remove filter (Year|Month): {period}"))
    count = int(label.split(": ")[1].split()[0].replace(",", ""))
    assert f"{count} result" in page.locator(".summary").inner_text() or \
        f"{count:,} articles" in page.locator(".summary").inner_text()


def test_open_an_article_and_step_through_its_matches(page, base):
    page.goto(base + "/?q=security+pact")
    page.locator("ol.results h2 a").first.click()
    page.wait_for_url(re.compile("/articles/"))
    marks = page.locator("article.story mark")
    total = marks.count()
    assert total > 3
    nav = page.get_by_role("navigation", name="Matches")
    assert nav.is_visible()
    status = nav.get_by_role("status")
    assert status.inner_text() == f"{total} matches"
    following = nav.get_by_role("button", name="Next match")
    following.click()
    assert status.inner_text() == f"Match 1 of {total}"
    assert marks.nth(0).evaluate("m => m.classList.contains('current')")
    following.click()
    assert status.inner_text() == f"Match 2 of {total}"
    assert page.locator("mark.current").count() == 1
    assert marks.nth(1).evaluate("m => m.classList.contains('current')")
    assert marks.nth(1).is_visible() and _in_view(page, marks.nth(1))
    nav.get_by_role("button", name="Previous match").click()
    nav.get_by_role("button", name="Previous match").click()
    assert status.inner_text() == f"Match {total} of {total}"  # round to the last


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]


def test_open_a_related_story(page, base):
    page.goto(base + "/?q=cocoa&sort=newest")  # the latest story has past ones
    page.locator("ol.results h2 a").first.click()
    related = page.locator("section.related .related-list a").first
    title = related.inner_text()
    related.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title


def test_later_stories_are_switched_in_without_reloading_the_article(page, base):
    page.goto(base + "/?q=cocoa&sort=newest")
    page.locator("ol.results h2 a").first.click()
    page.wait_for_url(re.compile("/articles/"))
    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="include later stories").click()
    earlier = page.get_by_role("link", name="only earlier stories")
    playwright.expect(earlier).to_be_focused()
    assert query_of(page.url)["related"] == ["all"]
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("section.related").count() == 1
    assert "All dates" in page.locator("section.related .meta").first.inner_text()
    earlier.click()
    playwright.expect(page.get_by_role("link", name="include later stories")).to_be_focused()
    assert "related" not in query_of(page.url)
    assert page.evaluate("window.notReloaded") is True


def test_copy_the_citation(browser, base):
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.goto(base + "/?q=title:cocoa+bahia")
    page.locator("ol.results h2 a").first.click()
    page.get_by_role("button", name="Copy citation").click()
    page.get_by_role("button", name="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "Reuters, “BAHIA COCOA REVIEW”, 26 February 1987."
    assert page.locator("#announce").inner_text() == "Citation copied"
    context.close()


def test_the_same_search_with_javascript_off(browser, base):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/")
    box = page.get_by_role("searchbox", name="Search the archive")
    box.fill("oil")
    box.press("Enter")
    page.wait_for_url(re.compile(r"q=oil"))
    assert len(result_titles(page)) == 10
    assert page.locator("#suggestions").is_hidden()
    filters = page.locator("aside.facets details")
    assert filters.get_attribute("open") is not None  # nothing folds it away
    page.get_by_role("link", name="Newest").click()
    page.wait_for_url(re.compile("sort=newest"))
    page.locator("ol.results h2 a").first.click()
    page.wait_for_url(re.compile("/articles/"))
    assert page.locator("article.story mark").count() > 0
    assert page.locator("nav.matches").is_hidden()
    assert page.locator("button.copy").is_hidden()
    assert page.locator("#citation").inner_text().endswith(".")
    context.close()


def test_keyboard_only_reaches_the_search_box_with_a_visible_focus(page, base):
    page.goto(base + "/?q=oil")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to content" and _in_view(page, skip)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert focused.get_attribute("id") == "q"
    outline = focused.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")  # back to the search box from anywhere
    assert page.evaluate("document.activeElement.id") == "q"
    page.locator("main").click(position={"x": 5, "y": 5})
    for _ in range(40):  # tab on until a result link is reached
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('ol.results') !== null"):
            break
    else:
        pytest.fail("no result link was reached with the Tab key")
    assert page.locator(":focus").evaluate("e => getComputedStyle(e).outlineStyle") != "none"


ARTICLE = "/articles/japan-us-security-pact.txt?q=security"


def _case(viewport: dict, scheme: str, path: str, typed: str = ""):
    width = "desktop" if viewport is DESKTOP else "phone"
    return pytest.param(viewport, scheme, path, typed,
                        id=f"{width}-{scheme}-{path}" + (f"-typing{typed}" if typed else ""))


@pytest.mark.parametrize("viewport, scheme, path, typed", [
    *[_case(DESKTOP, scheme, path) for scheme in ("light", "dark")
      for path in ("/", "/?q=oil", "/?q=oil&year=1987", ARTICLE,
                   "/?q=zzyzx+qwertyuiop&source=Reuters", "/help", "/related")],
    *[_case(PHONE, "dark", path) for path in ("/?q=oil", ARTICLE)],
    _case(PHONE, "light", "/?q=oil", " pri"),  # with the suggestions open
])
def test_no_serious_accessibility_violations(browser, base, viewport, scheme, path, typed):
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.goto(base + path)
    if typed:
        box = page.get_by_role("combobox")
        box.press("End")
        box.press_sequentially(typed, delay=20)
        playwright.expect(page.get_by_role("listbox")).to_be_visible()
        box.press("ArrowDown")
    results = axe_playwright.Axe().run(page)
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], serious


def test_phone_width_has_no_sideways_scroll_and_folds_the_filters(browser, base):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base + "/?q=oil")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    filters = page.locator("aside.facets details")
    assert filters.get_attribute("open") is None
    page.get_by_text("Filters", exact=True).click()
    assert filters.get_attribute("open") is not None
    assert page.locator("aside.facets section a").first.is_visible()
    context.close()


@pytest.mark.parametrize("name, viewport, scheme", [("desktop", DESKTOP, "light"),
                                                    ("phone", PHONE, "dark")])
def test_screenshots_of_the_results_for_a_reviewer(browser, base, name, viewport, scheme):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.goto(base + "/?q=oil+prices")
    assert page.get_by_role("group", name=re.compile("Matching articles per")).is_visible()
    path = ARTIFACTS / f"results-{name}.png"
    page.screenshot(path=path, full_page=True)
    page.goto(base + "/articles/japan-us-security-pact.txt?q=security+pact")
    page.screenshot(path=ARTIFACTS / f"article-{name}.png")
    context.close()
    assert path.stat().st_size > 10_000  # a real picture, not an empty one
