"""The website chat widget in a real browser: Debian's headless Chromium against the real assistant and
the demo clinic site (web/), both started here on their own ports.

The demo site is served on an allowed origin (DEMO_PORT, the only one in CORS_ORIGINS) and, for the
refusal test, on a second origin that is not allowed (OTHER_PORT). Screenshots and timings are saved
under var/screenshots/ (git-ignored).
"""
import json
import subprocess
import time
from importlib.metadata import version
from typing import Dict, Iterator, List, Union
from urllib.parse import quote

import pytest
import requests

from browser import CHROMIUM_ARGS, ensure_chromium
from clinic.serve import VENV_BIN, Assistant, port_in_use
from clinic.settings import PROJECT_ROOT
from conftest import running

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements/dev.txt)")
expect = sync_api.expect

RASA_PORT, ACTION_PORT, DEMO_PORT, OTHER_PORT = 5605, 5655, 8180, 8181
DEMO_ORIGIN = f"http://127.0.0.1:{DEMO_PORT}"
OTHER_ORIGIN = f"http://127.0.0.1:{OTHER_PORT}"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
ANSWER_TIMEOUT_MS = 90_000  # 2 shared cores: Rasa may be slow while others train or test
GREETING_BUTTONS = ["What is ketamine infusion therapy?", "Is it safe?", "What conditions does it treat?"]
HOSTILE = "<img src=x onerror=alert(1)><b>hi</b>"

FIGURES: Dict[str, Union[str, float]] = {}


# ---------------------------------------------------------------- servers and browser


@pytest.fixture(scope="module")
def chromium() -> str:
    path, detail = ensure_chromium()
    if not path:
        pytest.skip(f"no Chromium for the browser tests: {detail}")
    FIGURES["chromium"] = detail
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The real assistant with the demo site, allowing only the demo site's origin (CORS_ORIGINS)."""
    workdir = tmp_path_factory.mktemp("widget")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CORS_ORIGINS", DEMO_ORIGIN)  # read by Assistant from the settings, like in production
        server = Assistant(
            rasa_port=RASA_PORT,
            action_port=ACTION_PORT,
            web_port=DEMO_PORT,
            database=f"sqlite:///{workdir / 'conversations.sqlite'}",
            log_dir=workdir / "logs",
            extra_env={"CLINIC_NAME": "Example Pain Clinic"},
        )
    assert server.cors_origins == [DEMO_ORIGIN]
    with running(server, timeout=300):
        yield server


@pytest.fixture(scope="module")
def other_site(site: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same demo site on an origin that is not in CORS_ORIGINS."""
    if port_in_use("127.0.0.1", OTHER_PORT):
        pytest.fail(f"port {OTHER_PORT} is in use")
    log = open(tmp_path_factory.mktemp("other-site") / "web.log", "ab")
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "clinic.web_server", "--host", "127.0.0.1", "--port", str(OTHER_PORT),
         "--assistant-url", site.url],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_in_use("127.0.0.1", OTHER_PORT):
            assert process.poll() is None and time.monotonic() < deadline, "the second web server did not start"
            time.sleep(0.2)
        yield OTHER_ORIGIN
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator["sync_api.Browser"]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        FIGURES["playwright"] = version("playwright")
        yield instance
        instance.close()


class Tab:
    """One browser page with the visitor's view of the widget, and what went wrong on the page."""

    def __init__(self, page: "sync_api.Page") -> None:
        self.page = page
        self.errors: List[str] = []
        self.dialogs: List[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.set_default_timeout(30_000)

    # the widget's parts, found the way a screen reader user would (roles and names)
    @property
    def launcher(self) -> "sync_api.Locator":
        return self.page.get_by_role("button", name="Chat with the Example Pain Clinic assistant")

    @property
    def dialog(self) -> "sync_api.Locator":
        return self.page.get_by_role("dialog", name="Example Pain Clinic")

    @property
    def log(self) -> "sync_api.Locator":
        return self.page.get_by_role("log", name="Conversation")

    @property
    def input(self) -> "sync_api.Locator":
        return self.page.get_by_role("textbox", name="Your question for the assistant")

    @property
    def bot_bubbles(self) -> "sync_api.Locator":
        return self.page.locator("#clinic-chat .cc-from-bot .cc-text")

    @property
    def visitor_bubbles(self) -> "sync_api.Locator":
        return self.page.locator("#clinic-chat .cc-from-visitor .cc-text")

    @property
    def quick_replies(self) -> "sync_api.Locator":
        return self.page.get_by_role("group", name="Suggested replies").get_by_role("button")

    def open(self, path: str = "/demo/", origin: str = DEMO_ORIGIN) -> None:
        self.page.goto(origin + path)
        expect(self.launcher).to_be_visible()

    def open_chat(self) -> None:
        self.launcher.click()
        expect(self.dialog).to_be_visible()

    def ask(self, text: str) -> float:
        """Types a question, sends it with Enter; returns seconds until the answer was shown."""
        before = self.bot_bubbles.count()
        self.input.fill(text)
        started = time.monotonic()
        self.input.press("Enter")
        expect(self.bot_bubbles).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
        return time.monotonic() - started

    def sender(self) -> str:
        return self.page.evaluate(
            "() => { for (const k of Object.keys(localStorage)) if (k.startsWith('clinicChat:'))"
            " return JSON.parse(localStorage.getItem(k)).sender; return null; }"
        )

    def active_element(self) -> str:
        """What has the keyboard focus, looking inside the widget's shadow root."""
        return self.page.evaluate(
            "() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement)"
            " a = a.shadowRoot.activeElement; return a ? (a.getAttribute('aria-label') || a.textContent || a.tagName) : ''; }"
        )

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def tab(site: Assistant, browser: "sync_api.Browser") -> Iterator[Tab]:
    """A new visitor: a fresh browser context (empty localStorage), desktop size."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield Tab(context.new_page())
    context.close()


def tracker_texts(site: Assistant, sender: str) -> List[str]:
    response = requests.get(
        f"{site.url}/conversations/{quote(sender, safe='')}/tracker", params={"token": site.token}, timeout=30
    )
    response.raise_for_status()
    return [e.get("text") or "" for e in response.json()["events"] if e["event"] == "user"]


@pytest.fixture(scope="module", autouse=True)
def save_figures() -> Iterator[None]:
    yield
    if FIGURES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "figures.json").write_text(json.dumps(FIGURES, indent=2) + "\n")
        print(f"\nwidget figures: {FIGURES}")


# ---------------------------------------------------------------- tests


def test_demo_site_and_widget_files_are_served_with_safe_headers(site: Assistant) -> None:
    page = requests.get(f"{site.web_url}/demo/", timeout=10)
    assert page.ok and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert f'data-server="{site.url}"' in page.text  # the assistant's address filled in
    widget = requests.get(f"{site.web_url}/widget/clinic-chat.js", timeout=10)
    assert widget.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "innerHTML" not in widget.text and "insertAdjacentHTML" not in widget.text
    assert requests.get(f"{site.web_url}/", timeout=10, allow_redirects=False).headers["Location"] == "/demo/"
    for path in ("/widget/", "/../clinic.yml", "/%2e%2e/clinic.yml", "/demo/missing.html"):
        assert requests.get(f"{site.web_url}{path}", timeout=10).status_code == 404, path


def test_open_ask_and_get_the_answer_with_its_source(tab: Tab, site: Assistant) -> None:
    tab.open()
    timing = tab.page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"
    )
    FIGURES["demo_page_dom_content_loaded_ms"] = round(timing["dom"])
    FIGURES["demo_page_load_ms"] = round(timing["load"])
    expect(tab.launcher).to_have_attribute("aria-expanded", "false")
    expect(tab.dialog).to_be_hidden()
    tab.screenshot("01-demo-closed")

    started = time.monotonic()
    tab.open_chat()
    expect(tab.launcher).to_have_attribute("aria-expanded", "true")
    expect(tab.input).to_be_focused()
    # the assistant's own greeting, fetched on first open, with its three suggestions
    expect(tab.bot_bubbles.first).to_contain_text("automated assistant", timeout=ANSWER_TIMEOUT_MS)
    FIGURES["greeting_after_open_s"] = round(time.monotonic() - started, 2)
    expect(tab.quick_replies).to_have_text(GREETING_BUTTONS)

    # the typing indicator shows while the answer is on its way
    tab.page.evaluate(
        "() => { const t = document.querySelector('#clinic-chat').shadowRoot.querySelector('.cc-typing');"
        " window.__sawTyping = false; new MutationObserver(() => { if (!t.hidden) window.__sawTyping = true; })"
        ".observe(t, {attributes: true}); }"
    )
    FIGURES["first_answer_s"] = round(tab.ask("what is ketamine infusion therapy?"), 2)
    assert tab.page.evaluate("window.__sawTyping") is True
    answer = tab.bot_bubbles.last
    expect(answer).to_contain_text("Source")
    expect(answer).to_contain_text("ketamine")
    expect(tab.visitor_bubbles.last).to_have_text("what is ketamine infusion therapy?")
    expect(tab.page.locator("#clinic-chat .cc-typing")).to_be_hidden()
    tab.screenshot("02-answer-desktop")

    # Escape closes and gives the focus back to the launcher
    tab.input.press("Escape")
    expect(tab.dialog).to_be_hidden()
    assert tab.active_element() == "Chat with the Example Pain Clinic assistant"
    assert tab.errors == [] and tab.dialogs == []  # no CSP violation, no script error


def test_quick_reply_buttons_by_mouse_and_by_keyboard(tab: Tab) -> None:
    tab.open()
    tab.open_chat()
    expect(tab.quick_replies).to_have_text(GREETING_BUTTONS, timeout=ANSWER_TIMEOUT_MS)
    tab.quick_replies.nth(1).click()  # "Is it safe?"
    expect(tab.visitor_bubbles.last).to_have_text("Is it safe?")  # the title is shown, the payload sent
    expect(tab.bot_bubbles).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(tab.bot_bubbles.last).to_contain_text("Source")
    assert "safe" in tab.bot_bubbles.last.inner_text().lower()

    # keyboard only: the launcher closes and reopens with Enter, Tab reaches the controls
    tab.launcher.focus()
    tab.page.keyboard.press("Enter")
    expect(tab.dialog).to_be_hidden()
    tab.page.keyboard.press("Enter")
    expect(tab.dialog).to_be_visible()
    expect(tab.input).to_be_focused()
    tab.page.keyboard.type("Can someone call me?")
    tab.page.keyboard.press("Enter")
    expect(tab.bot_bubbles).to_have_count(3, timeout=ANSWER_TIMEOUT_MS)
    assert tab.errors == []


def test_history_survives_reload_and_the_conversation_goes_on_on_another_page(tab: Tab, site: Assistant) -> None:
    tab.open()
    tab.open_chat()
    expect(tab.quick_replies).to_have_count(3, timeout=ANSWER_TIMEOUT_MS)
    tab.ask("how long does the relief last?")
    sender = tab.sender()
    assert sender and sender.startswith("web-")
    shown = tab.log.inner_text()

    tab.page.reload()
    expect(tab.launcher).to_be_visible()
    expect(tab.bot_bubbles).to_have_count(2)  # greeting and answer, from the stored history
    expect(tab.visitor_bubbles).to_have_text(["how long does the relief last?"])
    assert tab.log.inner_text() == shown
    expect(tab.dialog).to_be_visible()  # it was open, so it stays open (wide screens)
    tab.screenshot("03-after-reload")

    tab.page.get_by_role("navigation", name="Main").get_by_role("link", name="Treatments").click()
    tab.page.wait_for_url("**/demo/treatments.html")
    expect(tab.page.get_by_role("heading", name="Treatments", level=1)).to_be_visible()
    expect(tab.visitor_bubbles).to_have_text(["how long does the relief last?"])
    tab.ask("what happens during an infusion session?")
    expect(tab.bot_bubbles.last).to_contain_text("Source")
    assert tab.sender() == sender
    tab.screenshot("04-second-page")

    asked = tracker_texts(site, sender)  # one conversation on the server, from both pages
    assert "how long does the relief last?" in asked and "what happens during an infusion session?" in asked
    assert tab.errors == []


def test_html_from_the_visitor_is_shown_as_text(tab: Tab) -> None:
    tab.open()
    tab.open_chat()
    expect(tab.bot_bubbles).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    tab.ask(HOSTILE)
    expect(tab.visitor_bubbles.last).to_have_text(HOSTILE)
    created = tab.page.evaluate(
        "() => { const r = document.querySelector('#clinic-chat').shadowRoot;"
        " return r.querySelectorAll('.cc-log img, .cc-log b, .cc-log script').length"
        " + document.querySelectorAll('body img, body b').length; }"
    )
    assert created == 0
    tab.page.wait_for_timeout(500)
    assert tab.dialogs == []  # onerror=alert(1) never ran
    tab.screenshot("05-html-as-text")


def test_links_in_answers_are_clickable_and_server_html_is_text(tab: Tab, site: Assistant) -> None:
    """Rendering of bot texts, from a stored history: addresses become links, markup stays text."""
    tab.open()
    state = {
        "version": 1, "sender": "web-" + "0" * 32, "open": True, "updated": int(time.time() * 1000),
        "messages": [
            {"from": "visitor", "text": "help"},
            {"from": "bot", "text": "Call or text 988, or chat at https://988lifeline.org, any time.\n<b>not bold</b>",
             "buttons": [{"title": "Talk to a person", "payload": "/request_contact"}]},
        ],
    }
    tab.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"clinicChat:{site.url}", json.dumps(state)])
    tab.page.reload()
    link = tab.dialog.get_by_role("link", name="https://988lifeline.org")
    expect(link).to_have_attribute("href", "https://988lifeline.org")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(tab.bot_bubbles.last).to_contain_text("<b>not bold</b>")
    assert tab.page.evaluate(
        "() => document.querySelector('#clinic-chat').shadowRoot.querySelectorAll('.cc-bubble b').length"
    ) == 0
    expect(tab.quick_replies).to_have_text(["Talk to a person"])


def test_an_origin_not_in_the_allowlist_is_refused(tab: Tab, site: Assistant, other_site: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    url = f"{site.url}/webhooks/rest/webhook"
    allowed = requests.options(url, headers={"Origin": DEMO_ORIGIN, **preflight}, timeout=30)
    assert allowed.headers.get("Access-Control-Allow-Origin") == DEMO_ORIGIN
    refused = requests.options(url, headers={"Origin": other_site, **preflight}, timeout=30)
    assert "Access-Control-Allow-Origin" not in refused.headers

    tab.open(origin=other_site)
    tab.open_chat()
    notice = tab.page.get_by_role("status").filter(has_text="can't be reached")
    expect(notice).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(notice.get_by_role("button", name="Try again")).to_be_visible()
    expect(tab.bot_bubbles).to_have_count(0)
    tab.screenshot("06-origin-refused")


def test_phone_width_panel_fills_the_screen(site: Assistant, browser: "sync_api.Browser") -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        tab = Tab(context.new_page())
        tab.open()
        tab.screenshot("07-phone-closed")
        tab.open_chat()
        expect(tab.quick_replies).to_have_count(3, timeout=ANSWER_TIMEOUT_MS)
        box = tab.dialog.bounding_box()
        assert box and box["x"] == 0 and box["y"] == 0 and box["width"] == 390 and box["height"] == 844
        expect(tab.launcher).to_be_hidden()  # the header's close button takes its place
        tab.ask("how many infusions will I need?")
        tab.screenshot("08-phone-answer")
        tab.page.get_by_role("button", name="Close chat").click()
        expect(tab.dialog).to_be_hidden()
        expect(tab.launcher).to_be_visible()
    finally:
        context.close()


def test_start_over_begins_a_new_conversation(tab: Tab) -> None:
    tab.open()
    tab.open_chat()
    expect(tab.bot_bubbles).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    tab.ask("how much does it cost?")
    first_sender = tab.sender()
    tab.dialog.get_by_role("button", name="Start over").click()
    expect(tab.visitor_bubbles).to_have_count(0)
    expect(tab.bot_bubbles).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)  # a new greeting
    expect(tab.quick_replies).to_have_count(3)
    assert tab.sender() != first_sender
    tab.page.reload()
    expect(tab.visitor_bubbles).to_have_count(0)
