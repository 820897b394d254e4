"""Fair assignment (2i2c, Sourcegraph): least open work, not the last one asked, ties alphabetical."""

from app.triage.assignment import suggest_assignee


def test_five_suggestions_in_a_row_spread_across_the_team():
    # Team: alice 0 open, bob 3, carol 3, dan 0 but away (available: false), erin 6.
    # Each suggestion is accepted (that person's open work +1) and becomes "last asked".
    #   1. available alice 0, bob 3, carol 3, erin 6           -> alice (fewest)       alice 1
    #   2. alice 1 is fewest but was asked last; bob 3 = carol 3 -> bob (alphabetical)   bob 4
    #   3. alice 1 fewest, last asked was bob                  -> alice                alice 2
    #   4. alice 2 was asked last; carol 3 < bob 4 < erin 6     -> carol                carol 4
    #   5. alice 2 fewest, last asked was carol                -> alice                alice 3
    # dan never appears (away), erin never appears (most work).
    available = ["alice", "bob", "carol", "erin"]
    open_work = {"alice": 0, "bob": 3, "carol": 3, "dan": 0, "erin": 6}
    last = None
    asked = []
    for _ in range(5):
        handle = suggest_assignee(available, open_work, last)
        asked.append(handle)
        open_work[handle] += 1
        last = handle
    assert asked == ["alice", "bob", "alice", "carol", "alice"]
    assert all(a != b for a, b in zip(asked, asked[1:])), "nobody is asked twice in a row"


def test_declined_suggestions_alternate_instead_of_asking_the_same_person():
    # Nobody accepts, so counts stay equal: alphabetical first, then never the last one asked.
    available, open_work, last = ["carol", "bob", "alice"], {}, None
    asked = []
    for _ in range(4):
        last = suggest_assignee(available, open_work, last)
        asked.append(last)
    assert asked == ["alice", "bob", "alice", "bob"]


def test_ties_are_alphabetical_and_unlisted_counts_are_zero():
    assert suggest_assignee(["dan", "bob", "carol"], {"bob": 1}) == "carol"


def test_the_only_available_member_is_asked_even_if_asked_last():
    assert suggest_assignee(["bob"], {"bob": 9}, last_asked="bob") == "bob"


def test_nobody_available():
    assert suggest_assignee([], {"alice": 0}) is None
