"""A class in real browsers: a teacher and three students, each in their own browser context.

The teacher starts a class; the students join with the code (one types it, two open the join link, one
of them on an iPhone 13 profile); each draws with the mouse and sends the drawing; the wall shows all
three within 5 s; the teacher pushes the Convolution page and every student sees the banner and opens
it with one click; the teacher ends the class and a student is told so in one sentence.
Screenshots of the wall (1280×800) and of the phone student's Draw page go to /tmp/shots-ui/.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM_ARGS, _need_browser, assert_no_exception, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.upper-canvas'
SHOTS = Path(os.environ.get("CLASS_SHOTS", "/tmp/shots-ui"))
LONG = 60_000


@pytest.fixture(scope="module")
def class_app(tmp_path_factory):
    """The app with a class database of its own (the server inherits the variable)."""
    _need_browser()
    db = tmp_path_factory.mktemp("classdb") / "classes.db"
    old = os.environ.get("CNN_EXPLORER_DATABASE_URL")
    os.environ["CNN_EXPLORER_DATABASE_URL"] = f"sqlite:///{db}"
    try:
        with streamlit_server("classroom.log") as url:
            yield url
    finally:
        if old is None:
            os.environ.pop("CNN_EXPLORER_DATABASE_URL", None)
        else:
            os.environ["CNN_EXPLORER_DATABASE_URL"] = old


def _context(browser, phone: bool = False):
    # the session's browser (conftest): a second sync_playwright in the same run is refused by Playwright
    ctx = browser.new_context(**browser.devices["iPhone 13"]) if phone else \
        browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return ctx, page


def _stroke(page, box, points):
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def _start_class(page, url: str) -> str:
    page.goto(url + "/class")
    wait_for_app(page, timeout=LONG)
    page.get_by_label("Class name").fill("Room 101")
    page.get_by_role("button", name="Start the class").click()
    code_box = page.locator(".st-key-class_code_big")
    expect(code_box).to_be_visible(timeout=LONG)
    code = code_box.inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", code), code
    expect(page.get_by_text("Keep this link: it is how you get back in")).to_be_visible()
    return code


def _join(page, url: str, code: str, nick: str, by_link: bool) -> None:
    if by_link:
        page.goto(f"{url}/class?join={code}")
        wait_for_app(page, timeout=LONG)
        expect(page.get_by_label("Join code (on the board, e.g. K7M-Q2P)")).to_have_value(code, timeout=LONG)
        assert "join=" not in page.url                    # the code left the address once read
    else:
        page.goto(url + "/class")
        wait_for_app(page, timeout=LONG)
        page.get_by_label("Join code (on the board, e.g. K7M-Q2P)").fill(code.lower().replace("-", " "))
    page.get_by_label("Nickname (optional; no real names needed)").fill(nick)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_text(f"You are {nick}").first).to_be_visible(timeout=LONG)


def _draw_and_send(page, stroke) -> None:
    page.get_by_role("link", name="Draw & Predict: draw and send").click()   # inside the app: same session
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=LONG)
    canvas.scroll_into_view_if_needed()
    _stroke(page, canvas.bounding_box(), stroke)
    expect(page.get_by_text("Send to your class").first).to_be_visible(timeout=LONG)
    yes = page.get_by_role("button", name=re.compile(r"^Yes, it is a \d$"))
    expect(yes).to_be_visible(timeout=LONG)
    yes.click()
    send = page.get_by_role("button", name="Send to the class")
    expect(send).to_be_enabled(timeout=LONG)
    send.click()
    expect(page.get_by_text("it is on the class wall").first).to_be_visible(timeout=LONG)


STROKES = [[(0.5, 0.12), (0.5, 0.88)],                                  # a 1
           [(0.22, 0.2), (0.78, 0.2), (0.45, 0.86)],                    # a 7
           [(0.5, 0.12), (0.25, 0.62), (0.8, 0.62)]]                    # a 4


def test_a_teacher_and_three_students(class_app, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    contexts = []
    try:
        t_ctx, teacher = _context(browser)
        contexts.append(t_ctx)
        code = _start_class(teacher, class_app)
        teacher.screenshot(path=str(SHOTS / "teacher-class-page.png"), full_page=True)

        students = []
        for i, nick in enumerate(["Ada", "Grace", "Alan"]):
            ctx, page = _context(browser, phone=(i == 2))
            contexts.append(ctx)
            _join(page, class_app, code, nick, by_link=i > 0)
            students.append((nick, page))

        teacher.get_by_role("link", name="Open the class wall (for the projector)").click()
        expect(teacher.get_by_text("Class wall · Room 101")).to_be_visible(timeout=LONG)

        for (nick, page), stroke in zip(students, STROKES):
            _draw_and_send(page, stroke)
        sent_at = time.monotonic()
        students[2][1].screenshot(path=str(SHOTS / "student-phone-draw.png"), full_page=True)

        drawings = teacher.locator(".st-key-wall_head [data-testid='stMetric']").filter(has_text="Drawings")
        expect(drawings.locator("[data-testid='stMetricValue']")).to_have_text("3", timeout=5_000)
        assert time.monotonic() - sent_at < 5.5
        for nick, _ in students:
            expect(teacher.locator(".st-key-wall_grid").get_by_text(nick).first).to_be_visible(timeout=5_000)
        teacher.wait_for_timeout(1500)      # let the analysis fragment draw once more before the picture
        teacher.screenshot(path=str(SHOTS / "teacher-wall-1280x800.png"))
        teacher.get_by_text("The class's confusion matrix").scroll_into_view_if_needed()
        teacher.wait_for_timeout(500)
        teacher.screenshot(path=str(SHOTS / "teacher-wall-matrix.png"))
        assert_no_exception(teacher)

        # Moderation from the projector page: Hide buttons on, one click takes a drawing off the wall.
        teacher.locator(".st-key-wall_moderate").get_by_text("Hide buttons").click()
        hide = teacher.locator(".st-key-wall_grid").get_by_role("button", name="Hide")
        expect(hide).to_have_count(3, timeout=LONG)
        teacher.screenshot(path=str(SHOTS / "teacher-wall-hide-buttons.png"))
        hide.first.click()
        expect(drawings.locator("[data-testid='stMetricValue']")).to_have_text("2", timeout=5_000)
        expect(teacher.locator("[data-testid='stToast']").filter(has_text="Hidden: no student sees it now")
               ).to_be_visible(timeout=LONG)
        assert_no_exception(teacher)

        teacher.get_by_role("link", name="Convolution").first.click()
        expect(teacher.get_by_role("button", name="Show this to the class")).to_be_visible(timeout=LONG)
        teacher.get_by_role("button", name="Show this to the class").click()
        expect(teacher.get_by_text("Sent to the class").first).to_be_visible(timeout=LONG)
        pushed_at = time.monotonic()
        for nick, page in students:
            expect(page.get_by_text("Your teacher is showing:").first).to_be_visible(timeout=10_000)
        banner_s = time.monotonic() - pushed_at
        for nick, page in students:      # it floats: seen also by a student scrolled down to the canvas
            expect(page.locator(".st-key-class_push_banner")).to_be_in_viewport(timeout=LONG)
        students[0][1].screenshot(path=str(SHOTS / "student-banner.png"))
        students[2][1].screenshot(path=str(SHOTS / "student-phone-banner.png"))
        for nick, page in students:
            page.locator(".st-key-class_push_banner").get_by_role("button", name="Open").click()
            expect(page).to_have_url(re.compile(r".*/convolution(\?.*)?$"), timeout=LONG)
            expect(page.get_by_text("Your teacher is showing:")).to_have_count(0, timeout=LONG)
            assert "teacher=" not in page.url
            assert_no_exception(page)
        print(f"banner on all three students {banner_s:.1f} s after the push")

        teacher.get_by_role("link", name="Class", exact=True).first.click()
        teacher.get_by_role("tab", name="End the class").click()
        teacher.get_by_role("button", name="End the class…").click()
        teacher.get_by_role("button", name="Yes, end the class").click()
        expect(teacher.get_by_text("The class has ended").first).to_be_visible(timeout=LONG)

        nick, page = students[0]
        page.get_by_role("link", name="Draw & Predict").first.click()
        expect(page.get_by_text("This class has ended").first).to_be_visible(timeout=LONG)
        expect(page.locator(".st-key-class_note_box")).to_be_in_viewport(timeout=LONG)
        expect(page.get_by_text("Send to your class")).to_have_count(0, timeout=LONG)
        page.screenshot(path=str(SHOTS / "student-class-ended.png"))
        assert_no_exception(page)
    finally:
        for ctx in contexts:
            ctx.close()
