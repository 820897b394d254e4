"""Persistence: Peewee models, migrations and the queries the board needs. Knows nothing of Textual."""

from data.db import DatabaseError, is_sqlite, open_database
from data.models import History, Notification, Ticket, database_proxy, utcnow

__all__ = ["DatabaseError", "History", "Notification", "Ticket", "database_proxy", "is_sqlite",
           "open_database", "utcnow"]
