"""An index for the cycle report: tickets by column and by when they entered it.

The report counts closed tickets nobody has moved since a period began, and
finds open ones, without reading every ticket row; (state, state_entered,
created) answers both from the index alone (see `data.reporting`).
"""


def up(migrator, db):
    # The migrator returns the operation; running it is ours to do.
    migrator.add_index("ticket", ("state", "state_entered", "created"), False).run()


def down(migrator, db):
    migrator.drop_index("ticket", "ticket_state_state_entered_created").run()
