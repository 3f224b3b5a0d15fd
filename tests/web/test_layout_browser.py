"""Pages fit the screen at 1366 and 1024 px: a wide table scrolls inside its own box with its
name and code columns kept in view, and no name wraps one character per line; the texts editor
saves one section at a time and asks before a text is deleted. Screenshots of each page at both
widths go to $JUESUAN_SCREENSHOTS."""

from __future__ import annotations

import pytest

from juesuan.disbursement.model import Month
from juesuan.web.workplace.models import DatasetVersion
from web.browser_support import Shots, browser_page, live_server, sign_in
from web.conftest import PASSWORD, store
from web.test_disbursement_browser import _read
from web.test_disbursement_performance import _pay_month
from web.test_disbursement_support import set_up_unit

WIDTHS = (1366, 1024)


@pytest.fixture
def server(transactional_db):
    with live_server() as live:
        yield live


def _fits(page) -> None:
    """Nothing wider than the window but the tables' own scroll boxes."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page {overflow}px wider than the window: {page.url}"


def _narrowest_line(page, selector: str) -> tuple[float, str]:
    """The narrowest cell of `selector` that holds more than one line, in characters of its font
    (a very large number when none wraps), and its text."""
    return page.evaluate(
        """(selector) => {
          let narrowest = [1e9, ""];
          for (const cell of document.querySelectorAll(selector)) {
            const range = document.createRange();
            range.selectNodeContents(cell);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (tops.size > 1 && cell.textContent.trim().length > 1) {
              const style = getComputedStyle(cell);
              const width = cell.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
              const chars = width / parseFloat(style.fontSize);
              if (chars < narrowest[0]) { narrowest = [chars, cell.textContent.trim()]; }
            }
          }
          return narrowest;
        }""",
        selector,
    )


def _sticky(page, selector: str) -> bool:
    return page.evaluate(
        "(s) => [...document.querySelectorAll(s)].every(c => getComputedStyle(c).position === 'sticky')",
        selector,
    )


@pytest.mark.django_db(transaction=True)
def test_wide_tables_and_pages_fit_at_1366_and_1024(server, world, example_workbook, tmp_path):
    store(world.unit, example_workbook, world.users["finance"])
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=12)
    run = _pay_month(world.unit, world.users, tmp_path, Month(2020, 3))
    base, unit = server.url, world.unit.pk
    shots = Shots("layout-")
    with browser_page() as page:
        sign_in(page, base, "finance", PASSWORD)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/u/{unit}/2020/tables/")
            for number in ("五", "七"):
                page.click(f".side-list a:text-matches('^{number}、')")
                page.wait_for_load_state()
                _fits(page)
                chars, text = _narrowest_line(page, "table.statement td.label")
                assert chars >= 6, (number, width, text)
                assert _sticky(page, "table.statement tbody td:first-child"), (number, width)
                shots.take(page, f"table-{number}-{width}")
            page.goto(f"{base}/u/{unit}/2020/")
            _fits(page)
            shots.take(page, f"dashboard-{width}")
        # the texts editor: a form per text; deleting one asks first
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/u/{unit}/2020/texts/")
            _fits(page)
            shots.take(page, f"texts-{width}")
        section = page.locator("form.text-section", has=page.locator("input[name=delete]")).first
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        section.locator("input[name=delete]").check()
        section.locator("button:text-is('保存这段')").click()
        assert asked and asked[0].startswith("确定删除“")
        assert _read(DatasetVersion.objects.count) == 1  # dismissed: nothing saved
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            section.locator("button:text-is('保存这段')").click()
        assert _read(DatasetVersion.objects.count) == 2
        assert "已保存为第 2 版" in page.locator("ul.messages").inner_text()
        # saving one section with edits typed in another asks first: the reload would lose them
        first, second = page.locator("form.text-section[data-unsaved]").all()[:2]
        first.locator("textarea").fill("尚未保存的修改")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        second.locator("button:text-is('保存这段')").click()
        title = first.get_attribute("data-unsaved")
        assert asked == [
            f"“{title}”还有未保存的修改，保存这段后页面会刷新，这些修改将丢失。仍要保存这段吗？"
        ]
        assert _read(DatasetVersion.objects.count) == 2  # dismissed: nothing saved
        # and so does leaving the page
        page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
        page.locator("a", has_text="报表").first.click()
        page.wait_for_timeout(300)
        assert asked[-1] == "beforeunload" and "/texts/" in page.url
        assert first.locator("textarea").input_value() == "尚未保存的修改"  # still there
        page.once("dialog", lambda dialog: dialog.accept())  # leave, edits dropped
        page.goto(base + "/logout/")
        page.click("form[action='/logout/'] button[type=submit]")
        sign_in(page, base, "admin", PASSWORD)  # the users' buttons on one line at both widths
        page.goto(base + "/manage/")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            _fits(page)
            rows = page.locator("form:has(button[value=reset])").all()
            assert len(rows) > 5
            for row in rows:
                tops = {round(b.bounding_box()["y"]) for b in row.locator("button").all()}
                assert len(tops) == 1, (width, row.inner_text())
            shots.take(page, f"manage-{width}")
        page.goto(base + "/logout/")
        page.click("form[action='/logout/'] button[type=submit]")
        sign_in(page, base, "clerk", PASSWORD)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path, name in (
                (f"/u/{unit}/pay/runs/{run.pk}/", "run"),
                (f"/u/{unit}/pay/returns/", "returns"),
                (f"/u/{unit}/pay/stats/", "stats"),
                (f"/u/{unit}/pay/roster/", "roster"),
            ):
                page.goto(base + path)
                _fits(page)
                chars, text = _narrowest_line(page, "table.list td")
                assert chars >= 4, (name, width, text)
                shots.take(page, f"{name}-{width}")
            page.click("table.list tbody td a")  # a person's page, from the roster's name
            _fits(page)
            shots.take(page, f"person-{width}")
