"""Residents subscribed to crisis alerts, written straight into the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot.alerts.store import ALL
from bot.db.engine import Database, database, utcnow
from bot.db.schema import alert_subscriptions as subscriptions
from bot.db.schema import contacts, resident_languages


@dataclass
class Resident:
    """A resident as the alert tables know them: a contact, what they subscribed to, the language they read."""

    sender_id: str
    channel: str
    address: str
    pairs: Sequence[Tuple[str, str]] = ((ALL, ALL),)
    opted_out: bool = False
    has_contact: bool = True
    language: Optional[str] = None  # None: never stored (they read the default language)


def add_residents(residents: Iterable[Resident], db: Optional[Database] = None) -> None:
    """Contacts and subscriptions for many residents in one transaction (as if they had subscribed);
    in `db`, else the process's database."""
    residents = list(residents)
    now = utcnow()

    def insert(connection: sa.engine.Connection) -> None:
        contact_rows = [
            dict(sender_id=r.sender_id, channel=r.channel, address=r.address, opted_out=r.opted_out, updated_at=now)
            for r in residents
            if r.has_contact
        ]
        subscription_rows = [
            dict(sender_id=r.sender_id, topic=t, zone=z, created_at=now) for r in residents for t, z in r.pairs
        ]
        language_rows = [
            dict(sender_id=r.sender_id, language=r.language, updated_at=now) for r in residents if r.language
        ]
        if contact_rows:
            connection.execute(contacts.insert(), contact_rows)
        if language_rows:
            connection.execute(resident_languages.insert(), language_rows)
        if subscription_rows:
            connection.execute(subscriptions.insert(), subscription_rows)

    with (db or database()).engine.begin() as connection:
        insert(connection)
