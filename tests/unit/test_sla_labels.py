"""The board's countdown labels: a minute later every card's countdown is recomputed, cached or not."""

from __future__ import annotations

from app.sla.countdown import CardSla, SlaLabels


def label(text: str, version: int = 1) -> CardSla:
    return CardSla(version, text, "ok", "ok", 3600.0)


def asking() -> tuple[SlaLabels, list[str]]:
    labels, asked = SlaLabels(), []
    labels.on_missing = lambda: asked.append("asked")
    return labels, asked


def test_a_card_without_a_countdown_for_its_version_is_asked_for_once():
    labels, asked = asking()
    assert labels.get(7, 1) is None and labels.get(8, 1) is None
    assert asked == ["asked"] and sorted(labels.take_missing()) == [7, 8]
    labels.put({7: label("8h left")})
    assert labels.get(7, 1).label == "8h left" and labels.get(7, 2) is None


def test_after_the_minute_an_uncached_card_keeps_its_old_countdown_until_the_new_one_comes():
    labels, asked = asking()
    labels.put({7: label("8h left"), 8: label("3h left")})
    labels.expire(recomputing=[7])  # card 7 is on screen: a worker recomputes it already
    assert labels.get(7, 1).label == "8h left" and asked == []  # not asked twice
    assert labels.get(8, 1).label == "3h left"  # painted again: shown as it was...
    assert asked == ["asked"] and labels.take_missing() == [8]  # ...and asked for
    labels.put({8: label("2h 59m left")})
    assert labels.get(8, 1).label == "2h 59m left" and asked == ["asked"]


def test_a_worker_finishing_late_never_puts_back_an_earlier_countdown():
    import datetime as dt

    nine, three = dt.datetime(2026, 11, 16, 9), dt.datetime(2026, 11, 16, 14, 59)
    labels = SlaLabels()
    labels.put({7: CardSla(1, "2h 1m left", "ok", "ok", 7260.0, at=three)})  # the minute refresh's worker
    labels.put({7: CardSla(1, "8h left", "ok", "ok", 28800.0, at=nine)})  # one started before it, done after
    assert labels.get(7, 1).label == "2h 1m left"
    labels.put({7: CardSla(2, "8h left", "ok", "ok", 28800.0, at=nine)})  # a new version is always taken
    assert labels.get(7, 2).label == "8h left"
    labels.carry(7, 3)
    assert labels.get(7, 3).at == nine  # a carried countdown keeps the moment it was worked out for
