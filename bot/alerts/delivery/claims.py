"""The job's delivery rows: which are due, claiming them for one attempt, and recording what happened.

Every function here runs inside one transaction (a round of the group commit,
or a pass of a lane), with set-based statements, so ten thousand rows cost a
few statements, not ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import store
from bot.alerts.store import PENDING, SENDING, SENT, SKIPPED, UNCONFIRMED, Alert, alert_message, matches
from bot.channels.outbound import TransactionalSender
from bot.db.engine import utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alert_subscriptions as subscriptions
from bot.db.schema import contacts
from bot.i18n.languages import resident_language


class Due(NamedTuple):
    """A pending row due for sending, and the language its message is in (what it costs the limiter)."""

    id: int
    language: str


@dataclass(frozen=True)
class Claim:
    """A delivery row taken for one attempt."""

    id: int
    sender_id: str
    address: str
    attempts: int
    language: str


@dataclass
class Rows:
    """The delivery rows of one alert, as one job sees them.

    Each row carries the language its resident reads, fixed when the alert was
    written; `message(language)` is what such a row sends. `written_here` names
    the channels whose messages are rows in this database (the web chat): their
    sender writes them in the claim's transaction, together with the "sent"
    mark, so they are delivered exactly once.
    """

    alert_id: int
    job_id: str
    lease_seconds: float
    page_size: int
    alert: Optional[Alert] = None
    written_here: Mapping[str, TransactionalSender] = field(default_factory=dict)
    _messages: Dict[str, str] = field(default_factory=dict)

    def message(self, language: str) -> str:
        """The alert as a reader of `language` receives it (the same for every row of that language)."""
        assert self.alert is not None
        if language not in self._messages:
            self._messages[language] = alert_message(self.alert, language)
        return self._messages[language]

    def skip_unreachable(self, channel: str, connection: Connection) -> int:
        """Skip, in bulk, pending rows whose resident opted out or unsubscribed since the alert was written."""
        assert self.alert is not None
        base = (
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
        )
        opted_out = sa.select(contacts.c.sender_id).where(contacts.c.opted_out == sa.true())
        skipped = connection.execute(
            base.where(deliveries.c.sender_id.in_(opted_out)).values(state=SKIPPED, last_error="opted out")
        ).rowcount
        still_wanted = (
            sa.exists()
            .where(subscriptions.c.sender_id == deliveries.c.sender_id)
            .where(matches(self.alert.topic, self.alert.zone))
        )
        skipped += connection.execute(
            base.where(~still_wanted).values(state=SKIPPED, last_error="unsubscribed")
        ).rowcount
        return int(skipped or 0)

    def pending_channels(self, connection: Connection) -> List[str]:
        rows = connection.execute(
            sa.select(deliveries.c.channel)
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state == PENDING)
            .distinct()
        ).all()
        return [row.channel for row in rows]

    def due(self, channel: str, after: int, connection: Connection) -> List[Due]:
        rows = connection.execute(
            sa.select(deliveries.c.id, deliveries.c.language)
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
            .where(deliveries.c.next_attempt_at <= utcnow())
            .where(deliveries.c.id > after)
            .order_by(deliveries.c.id)
            .limit(self.page_size)
        ).all()
        return [Due(row.id, resident_language(row.language)) for row in rows]

    def waiting(self, channel: str, connection: Connection) -> Tuple[int, Any]:
        row = connection.execute(
            sa.select(sa.func.count(), sa.func.min(deliveries.c.next_attempt_at))
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
        ).one()
        return int(row[0]), store.aware(row[1])

    def write_round(self, connection: Connection, ids: List[int], outcomes: List[Dict[str, Any]]) -> Dict[int, Any]:
        """One round: record outcomes, then claim (or settle) the rows asked for."""
        self.record_outcomes(connection, outcomes)
        return self.claim_rows(connection, ids) if ids else {}

    def record_outcomes(self, connection: Connection, outcomes: List[Dict[str, Any]]) -> None:
        done = [o for o in outcomes if o["state"] != PENDING]
        again = [o for o in outcomes if o["state"] == PENDING]
        mine = (
            deliveries.update()
            .where(deliveries.c.id == sa.bindparam("row_id"))
            .where(deliveries.c.claimed_by == self.job_id)
        )
        if done:
            connection.execute(
                mine.where(sa.or_(deliveries.c.state == SENDING, deliveries.c.state == UNCONFIRMED)).values(
                    state=sa.bindparam("new_state"),
                    last_error=sa.bindparam("error"),
                    sent_at=sa.bindparam("at"),
                    claimed_until=None,
                ),
                [
                    {"row_id": o["id"], "new_state": o["state"], "error": o.get("error"), "at": o.get("at")}
                    for o in done
                ],
            )
        if again:
            connection.execute(
                mine.where(deliveries.c.state == SENDING).values(
                    state=PENDING,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=sa.bindparam("error"),
                    next_attempt_at=sa.bindparam("at"),
                ),
                [{"row_id": o["id"], "error": o.get("error"), "at": o["at"]} for o in again],
            )

    def claim_rows(self, connection: Connection, ids: List[int]) -> Dict[int, Any]:
        """Take pending rows for sending. A row whose resident opted out or unsubscribed
        meanwhile is skipped; a row of a channel written here is delivered right here
        (message and "sent" mark in this transaction). Returns id -> Claim, SKIPPED or
        SENT (absent: gone)."""
        assert self.alert is not None
        rows = connection.execute(
            sa.select(
                deliveries.c.id,
                deliveries.c.sender_id,
                deliveries.c.channel,
                deliveries.c.attempts,
                deliveries.c.language,
                contacts.c.address,
                contacts.c.opted_out,
            )
            .select_from(deliveries.outerjoin(contacts, contacts.c.sender_id == deliveries.c.sender_id))
            .where(deliveries.c.id.in_(ids))
            .where(deliveries.c.state == PENDING)
        ).all()
        if not rows:
            return {}
        wanted = set(
            connection.execute(
                sa.select(subscriptions.c.sender_id)
                .where(subscriptions.c.sender_id.in_([row.sender_id for row in rows]))
                .where(matches(self.alert.topic, self.alert.zone))
            ).scalars()
        )
        results: Dict[int, Any] = {}
        skipped: List[Dict[str, Any]] = []
        here: Dict[str, List[Any]] = {}
        claimed: List[Any] = []
        for row in rows:
            if row.address is None:
                skipped.append({"row_id": row.id, "reason": "no contact for this conversation"})
            elif row.opted_out:
                skipped.append({"row_id": row.id, "reason": "opted out"})
            elif row.sender_id not in wanted:
                skipped.append({"row_id": row.id, "reason": "unsubscribed"})
            elif row.channel in self.written_here:
                here.setdefault(row.channel, []).append(row)
            else:
                claimed.append(row)
        pending = deliveries.update().where(deliveries.c.state == PENDING)
        if skipped:
            connection.execute(
                pending.where(deliveries.c.id == sa.bindparam("row_id")).values(
                    state=SKIPPED, last_error=sa.bindparam("reason")
                ),
                skipped,
            )
            results.update({entry["row_id"]: SKIPPED for entry in skipped})
        for channel, written in here.items():
            by_language: Dict[str, List[str]] = {}
            for row in written:
                by_language.setdefault(resident_language(row.language), []).append(row.sender_id)
            for language, sender_ids in by_language.items():
                self.written_here[channel].write_in(connection, sender_ids, self.message(language))
            connection.execute(
                pending.where(deliveries.c.id.in_([row.id for row in written])).values(
                    state=SENT, sent_at=utcnow(), attempts=deliveries.c.attempts + 1, claimed_by=self.job_id
                )
            )
            results.update({row.id: SENT for row in written})
        if claimed:
            taken = connection.execute(
                pending.where(deliveries.c.id.in_([row.id for row in claimed])).values(
                    state=SENDING,
                    claimed_by=self.job_id,
                    claimed_until=utcnow() + timedelta(seconds=self.lease_seconds),
                    attempts=deliveries.c.attempts + 1,
                )
            ).rowcount
            ours = {row.id for row in claimed}
            if taken != len(claimed):  # another job got some first: keep only ours
                ours = set(
                    connection.execute(
                        sa.select(deliveries.c.id)
                        .where(deliveries.c.id.in_(list(ours)))
                        .where(deliveries.c.state == SENDING)
                        .where(deliveries.c.claimed_by == self.job_id)
                    ).scalars()
                )
            for row in claimed:
                if row.id in ours:
                    results[row.id] = Claim(
                        row.id, row.sender_id, row.address, row.attempts + 1, resident_language(row.language)
                    )
        return results
