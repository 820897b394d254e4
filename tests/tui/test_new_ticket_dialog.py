"""The new-ticket dialog (`n`) as a user meets it: every field reachable, dropdowns inside it, a Create button (19.12)."""

from __future__ import annotations

import pytest
from textual.widget import Widget
from textual.widgets import Button, Select

from app.tui.screens.triage_dialogs import NewTicketDialog
from data.models import Ticket

from tests.tui.screen import settle

FIELDS = ("#new-title", "#new-requester", "#new-kind", "#new-service", "#new-create")


def seen(screen, widget: Widget) -> bool:
    """The widget is painted where it is: the cells at its four corners show it (not clipped, not covered)."""
    region = widget.region
    if not region.width or not region.height:
        return False
    corners = [(region.x, region.y), (region.right - 1, region.y),
               (region.x, region.bottom - 1), (region.right - 1, region.bottom - 1)]
    for x, y in corners:
        if not screen.region.contains(x, y):
            return False
        found, _ = screen.get_widget_at(x, y)
        if found is not widget and widget not in found.ancestors:
            return False
    return True


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (160, 45)])
async def test_every_field_is_reachable_and_shown(make_app, size):
    async with make_app().run_test(size=size) as pilot:
        await pilot.press("n")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, NewTicketDialog)
        box = dialog.query_one(".dialog")
        assert dialog.region.contains_region(box.region), "the dialog runs off the screen"
        for selector in FIELDS:
            widget = dialog.query_one(selector)
            assert dialog.focused is widget, (selector, dialog.focused)
            assert seen(dialog, widget), f"{selector} is not on the screen at {size}"
            await pilot.press("tab")
            await pilot.pause()


@pytest.mark.parametrize("size", [(60, 20), (100, 30)])
@pytest.mark.parametrize("selector", ["#new-kind", "#new-service"])
async def test_an_open_dropdown_stays_inside_the_dialog(make_app, size, selector):
    async with make_app().run_test(size=size) as pilot:
        await pilot.press("n")
        await settle(pilot)
        dialog = pilot.app.screen
        select = dialog.query_one(selector, Select)
        select.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert select.expanded
        overlay = select.query_one("SelectOverlay")
        box = dialog.query_one(".dialog")
        assert box.region.contains_region(overlay.region), (overlay.region, box.region)
        assert seen(dialog, overlay)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not select.expanded


async def test_the_create_button_creates_the_ticket(make_app):
    async with make_app().run_test(size=(60, 20)) as pilot:
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Printer on fire")
        dialog = pilot.app.screen
        service = dialog.query_one("#new-service", Select)
        service.value = "LMS"
        assert str(dialog.query_one("#new-create", Button).label) == "Create"
        await pilot.click("#new-create")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, NewTicketDialog)
        created = Ticket.get(Ticket.title == "Printer on fire")
        assert (created.state, created.service) == ("todo", "LMS")


async def test_ctrl_s_creates_from_any_field(make_app):
    async with make_app().run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Projector smokes", "tab", "tab")  # on the Kind dropdown, where enter opens it
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Ticket.get(Ticket.title == "Projector smokes").kind == "bug"


async def test_the_create_button_refuses_an_empty_title(make_app):
    async with make_app().run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await settle(pilot)
        await pilot.click("#new-create")
        await settle(pilot)
        assert isinstance(pilot.app.screen, NewTicketDialog)
        assert Ticket.select().count() == 0
