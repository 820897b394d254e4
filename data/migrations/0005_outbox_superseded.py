"""The status a requester's status mail says the ticket left, so a later change can supersede it.

A move and its undo queued "now In Progress" and "now Open" while the first
was still undelivered: the requester was mailed twice, to end where they
started. The write path now marks an undelivered status mail `superseded`
(kept, not deleted) and sends only the latest status, from the one the
requester last saw, which is this column of the oldest superseded row.
"""

from peewee import CharField


def up(migrator, db):
    migrator.add_column("notification", "status_before", CharField(null=True)).run()


def down(migrator, db):
    migrator.drop_column("notification", "status_before").run()
