"""An index on when each ticket last changed, for live boards on SQLite.

A board on an SQLite file learns of other sessions' writes by polling: when
the file's data version moves it asks for tickets updated after the last
change it saw. Without this index that question (and `MAX(updated)`) read the
whole ticket table after every commit, its own moves included: a tenth of a
second at 100,000 tickets, on the same two cores as the board.
"""


def up(migrator, db):
    migrator.add_index("ticket", ("updated",), False).run()


def down(migrator, db):
    migrator.drop_index("ticket", "ticket_updated").run()
