"""The report counts how many of the period's closed tickets met their response targets."""

import datetime as dt

from app.reports.cycles import cycle_period
from app.reports.report import gather, report_json
from app.service import Service


def test_closed_tickets_met_or_missed_their_first_response(report_config, db):
    config = report_config
    now = {"t": dt.datetime(2026, 11, 16, 10, 0)}  # Monday 10:00 in London (GMT = UTC in November)
    service = Service(config, clock=lambda: now["t"])
    told = service.create(title="told", requester_email="req@example.org", by="alice")
    silent = service.create(title="silent", by="alice")  # no address: nobody is ever told

    now["t"] = dt.datetime(2026, 11, 16, 11, 0)
    service.move(told.key, "closed", by="alice")  # Open -> Released mails the requester: first response at 11:00
    now["t"] = dt.datetime(2026, 11, 18, 12, 0)
    service.move(silent.key, "closed", by="alice")  # due Tue 10:00 (1 working day), closed Wed unanswered

    # Cycle 1 of the repo config (start 2026-11-02, two weeks): 16-29 November.
    result = gather(config, cycle_period(config.report, 1, config.board.timezone), now=dt.datetime(2026, 11, 20, 9))
    compliance = report_json(result)["sla_compliance"]
    assert compliance["tickets"] == 2
    assert compliance["first_response"] == {"met": 1, "missed": 1, "percent": 50.0}


def test_the_reports_screen_shows_the_same_compliance_beside_the_charts(report_config, db):
    """The figures panel of `r` says what `triageboard report` says (one met, one missed)."""
    from app.tui.screens.reports import figures_text

    config = report_config
    now = {"t": dt.datetime(2026, 11, 16, 10, 0)}
    service = Service(config, clock=lambda: now["t"])
    told = service.create(title="told", requester_email="req@example.org", by="alice")
    silent = service.create(title="silent", by="alice")
    now["t"] = dt.datetime(2026, 11, 16, 11, 0)
    service.move(told.key, "closed", by="alice")
    now["t"] = dt.datetime(2026, 11, 18, 12, 0)
    service.move(silent.key, "closed", by="alice")

    result = gather(config, cycle_period(config.report, 1, config.board.timezone), now=dt.datetime(2026, 11, 20, 9))
    shown = figures_text(result, config).splitlines()
    at = shown.index("Targets met (of the tickets closed)")
    assert shown[at + 1].strip() == "first response 1/2 (50.0%)"
    assert shown[at + 2].startswith("  update every ")
