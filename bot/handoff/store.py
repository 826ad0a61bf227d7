"""Handoffs, staff accounts, console sessions and the audit log, in the assistant's database.

A handoff is one stretch of a conversation in which city staff are in charge:
`waiting` (in the queue) -> `claimed` (one staff member has it) -> `resolved`
(by staff, or by the resident leaving the queue). An emergency message marks a
handoff urgent (`urgent_at`): urgent ones come first in the queue.
A conversation has at most one open handoff (a partial unique index), and a
claim is one atomic `UPDATE ... WHERE state = 'waiting'`, so two staff members
can never hold the same conversation.

Nothing here logs message text, addresses or passwords: log lines name
handoffs by number and staff by username.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any, Dict, List, Optional, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, utcnow
from bot.db.schema import audit_log, contacts, handoff_notes, handoffs, staff_sessions, staff_users
from bot.handoff import passwords, roles
from bot.settings import settings

logger = logging.getLogger(__name__)

WAITING, CLAIMED, RESOLVED = "waiting", "claimed", "resolved"
OPEN_STATES = (WAITING, CLAIMED)

# Why a conversation came to staff.
ASKED = "asked"  # the resident asked for a person
MISUNDERSTOOD = "misunderstood"  # the bot failed twice in a row, offered a person, and the resident took it
STAFF = "staff"  # a staff member picked the conversation up on their own
REASONS = {
    ASKED: "Asked for a person",
    MISUNDERSTOOD: "Not understood by the assistant",
    STAFF: "Picked up by staff",
}

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MAX_FAILED_LOGINS = 5
NOTE_MAX_CHARS = 4000


def _minutes(name: str, default: float) -> timedelta:
    try:
        value = float(settings().get(name) or default)
    except ValueError:
        value = default
    return timedelta(minutes=value if value > 0 else default)


def lockout_duration() -> timedelta:
    """How long MAX_FAILED_LOGINS wrong passwords in a row lock an account (CONSOLE_LOCKOUT_MINUTES)."""
    return _minutes("CONSOLE_LOCKOUT_MINUTES", 5)


def session_idle() -> timedelta:
    """A console session ends after this long without a request (CONSOLE_SESSION_IDLE_MINUTES)."""
    return _minutes("CONSOLE_SESSION_IDLE_MINUTES", 30)


def session_lifetime() -> timedelta:
    """...and in any case this long after login (CONSOLE_SESSION_HOURS)."""
    return _minutes("CONSOLE_SESSION_HOURS", 12) * 60


def on_duty_window() -> timedelta:
    """Staff count as on duty while a console of theirs was seen this recently (CONSOLE_ON_DUTY_SECONDS)."""
    try:
        seconds = float(settings().console_on_duty_seconds or 90)
    except ValueError:
        seconds = 90
    return timedelta(seconds=seconds)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: Optional[datetime]) -> Optional[datetime]: ...
def aware(value: Optional[datetime]) -> Optional[datetime]:
    """SQLite returns UTC datetimes without their zone."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


@dataclass(frozen=True)
class Handoff:
    id: int
    sender_id: str
    channel: str
    reason: str
    state: str
    created_at: datetime
    updated_at: datetime
    claimed_by: Optional[str]
    claimed_at: Optional[datetime]
    resolved_by: Optional[str]
    resolved_at: Optional[datetime]
    handed_back: Optional[bool]
    urgent_at: Optional[datetime] = None
    noted_at: Optional[datetime] = None

    @classmethod
    def from_row(cls, row: Any) -> "Handoff":
        data = dict(row._mapping)
        for key in ("created_at", "updated_at", "claimed_at", "resolved_at", "urgent_at", "noted_at"):
            data[key] = aware(data[key])
        return cls(**data)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def urgent(self) -> bool:
        return self.urgent_at is not None

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, self.reason)

    def as_json(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "state": self.state,
            "conversation": self.sender_id,
            "created_at": self.created_at.isoformat(),
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "urgent": self.urgent,
        }


@dataclass(frozen=True)
class Note:
    id: int
    handoff_id: int
    author: str
    text: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> "Note":
        data = dict(row._mapping)
        data["created_at"] = aware(data["created_at"])
        return cls(**data)

    def as_json(self) -> Dict[str, Any]:
        return {"id": self.id, "author": self.author, "text": self.text, "at": self.created_at.isoformat()}


# --- handoffs -----------------------------------------------------------------------


def _open_for(connection: Connection, sender_id: str) -> Optional[Any]:
    return connection.execute(
        sa.select(handoffs).where(handoffs.c.sender_id == sender_id, handoffs.c.state.in_(OPEN_STATES))
    ).first()


async def open_handoff(sender_id: str, channel: str, reason: str, claimed_by: Optional[str] = None) -> tuple:
    """The conversation's open handoff, made now if there is none: (handoff, created).

    `claimed_by` opens it already claimed (staff picking a conversation up).
    """

    def work(connection: Connection) -> tuple:
        existing = _open_for(connection, sender_id)
        if existing is not None:
            return Handoff.from_row(existing), False
        now = utcnow()
        values = dict(
            sender_id=sender_id, channel=channel, reason=reason, state=WAITING, created_at=now, updated_at=now
        )
        if claimed_by:
            values.update(state=CLAIMED, claimed_by=claimed_by, claimed_at=now)
        try:
            with connection.begin_nested():
                new_id = connection.execute(handoffs.insert().values(**values)).inserted_primary_key[0]
        except sa.exc.IntegrityError:  # another process opened one at the same moment
            return Handoff.from_row(_open_for(connection, sender_id)), False
        return Handoff.from_row(connection.execute(sa.select(handoffs).where(handoffs.c.id == new_id)).one()), True

    handoff, created = await database().run(work)
    if created:
        logger.info("handoff %s opened (%s, %s)", handoff.id, handoff.channel, handoff.reason)
    return handoff, created


async def get_handoff(handoff_id: int) -> Optional[Handoff]:
    row = await database().run(lambda c: c.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)).first())
    return Handoff.from_row(row) if row is not None else None


async def open_handoff_for(sender_id: str) -> Optional[Handoff]:
    row = await database().run(lambda c: _open_for(c, sender_id))
    return Handoff.from_row(row) if row is not None else None


# Queue order: urgent ones first (the earliest emergency first), then the longest waiting.
QUEUE_ORDER = (handoffs.c.urgent_at.is_(None), handoffs.c.urgent_at, handoffs.c.created_at, handoffs.c.id)


async def open_handoffs() -> List[Handoff]:
    """The queue: waiting ones first (urgent, then longest waiting first), then claimed ones."""
    rows = await database().run(
        lambda c: c.execute(sa.select(handoffs).where(handoffs.c.state.in_(OPEN_STATES)).order_by(*QUEUE_ORDER)).all()
    )
    items = [Handoff.from_row(r) for r in rows]
    return [h for h in items if h.state == WAITING] + [h for h in items if h.state == CLAIMED]


async def recently_resolved(limit: int = 20) -> List[Handoff]:
    rows = await database().run(
        lambda c: c.execute(
            sa.select(handoffs)
            .where(handoffs.c.state == RESOLVED)
            .order_by(handoffs.c.resolved_at.desc(), handoffs.c.id.desc())
            .limit(limit)
        ).all()
    )
    return [Handoff.from_row(r) for r in rows]


async def _update_waiting(handoff_id: int, **values: Any) -> bool:
    """Change a handoff only while it waits; False when it no longer does (someone else was quicker)."""
    result = await database().run(
        lambda c: (
            c.execute(
                handoffs.update().where(handoffs.c.id == handoff_id, handoffs.c.state == WAITING).values(**values)
            ).rowcount
        )
    )
    return result == 1


async def claim(handoff_id: int, username: str) -> bool:
    """Take a waiting handoff; False when it is not waiting (someone else was quicker)."""
    now = utcnow()
    return await _update_waiting(handoff_id, state=CLAIMED, claimed_by=username, claimed_at=now, updated_at=now)


async def unclaim(handoff_id: int, username: str) -> bool:
    """Put a claimed handoff back in the queue (only its holder can)."""
    result = await database().run(
        lambda c: (
            c.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.state == CLAIMED, handoffs.c.claimed_by == username)
                .values(state=WAITING, claimed_by=None, claimed_at=None, updated_at=utcnow())
            ).rowcount
        )
    )
    return result == 1


async def resolve(handoff_id: int, username: str, handed_back: bool) -> bool:
    """Close a handoff held by `username` (or still waiting); False otherwise."""
    now = utcnow()
    result = await database().run(
        lambda c: (
            c.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    sa.or_(
                        handoffs.c.state == WAITING,
                        sa.and_(handoffs.c.state == CLAIMED, handoffs.c.claimed_by == username),
                    ),
                )
                .values(state=RESOLVED, resolved_by=username, resolved_at=now, handed_back=handed_back, updated_at=now)
            ).rowcount
        )
    )
    return result == 1


async def touch_handoff(handoff_id: int) -> None:
    """Mark a handoff changed (the queue shows it again to everyone)."""
    await database().run(
        lambda c: c.execute(handoffs.update().where(handoffs.c.id == handoff_id).values(updated_at=utcnow()))
    )


async def queue_position(handoff_id: int) -> int:
    """1 for the handoff staff will reach first (see QUEUE_ORDER); 0 when it is not waiting."""

    def work(connection: Connection) -> int:
        waiting = (
            connection.execute(sa.select(handoffs.c.id).where(handoffs.c.state == WAITING).order_by(*QUEUE_ORDER))
            .scalars()
            .all()
        )
        return waiting.index(handoff_id) + 1 if handoff_id in waiting else 0

    return await database().run(work)


async def mark_urgent(handoff_id: int) -> bool:
    """Flag an open handoff urgent (it moves to the top of the queue); False when it already was, or is closed."""
    now = utcnow()
    result = await database().run(
        lambda c: (
            c.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.state.in_(OPEN_STATES), handoffs.c.urgent_at.is_(None))
                .values(urgent_at=now, updated_at=now)
            ).rowcount
        )
    )
    return result == 1


async def note_first_message(handoff_id: int) -> bool:
    """True exactly once per waiting handoff: the first message the resident sends while waiting."""
    result = await database().run(
        lambda c: (
            c.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.state == WAITING, handoffs.c.noted_at.is_(None))
                .values(noted_at=utcnow())
            ).rowcount
        )
    )
    return result == 1


async def leave_queue(handoff_id: int, actor: str) -> bool:
    """The resident left the queue: a waiting handoff resolved by `actor`; False once staff claimed it."""
    now = utcnow()
    return await _update_waiting(
        handoff_id, state=RESOLVED, resolved_by=actor, resolved_at=now, handed_back=True, updated_at=now
    )


DEFAULT_WAIT = timedelta(minutes=5)


async def _median_span(start: sa.Column, end: sa.Column, condition: Any, default: timedelta, sample: int) -> timedelta:
    """The median of `end - start` over the latest `sample` handoffs meeting `condition` (by `end`), else `default`."""
    rows = await database().run(
        lambda c: c.execute(
            sa.select(start.label("start"), end.label("end"))
            .where(start.isnot(None), end.isnot(None), condition)
            .order_by(end.desc())
            .limit(sample)
        ).all()
    )
    spans = [aware(r.end) - aware(r.start) for r in rows]
    return median(spans) if spans else default


async def typical_wait(sample: int = 20) -> timedelta:
    """The median wait of the last claimed handoffs (5 minutes before there are any)."""
    return await _median_span(
        handoffs.c.created_at, handoffs.c.claimed_at, handoffs.c.reason != STAFF, DEFAULT_WAIT, sample
    )


DEFAULT_HANDLING = timedelta(minutes=10)


async def typical_handling(sample: int = 20) -> timedelta:
    """The median time staff spent on the last conversations they resolved (10 minutes before any)."""
    return await _median_span(handoffs.c.claimed_at, handoffs.c.resolved_at, sa.true(), DEFAULT_HANDLING, sample)


async def claimed_by_any(usernames: List[str]) -> int:
    """How many conversations these staff members hold right now."""
    if not usernames:
        return 0
    return await database().run(
        lambda c: int(
            c.execute(
                sa.select(sa.func.count())
                .select_from(handoffs)
                .where(handoffs.c.state == CLAIMED, handoffs.c.claimed_by.in_(usernames))
            ).scalar_one()
        )
    )


async def staff_on_duty() -> List[str]:
    """Staff with a console open right now (a live session seen within the on-duty window)."""
    now = utcnow()
    rows = await database().run(
        lambda c: c.execute(
            sa.select(staff_sessions.c.username)
            .distinct()
            .where(staff_sessions.c.last_seen_at >= now - on_duty_window(), staff_sessions.c.expires_at > now)
        ).all()
    )
    return sorted(r.username for r in rows)


async def queue_fingerprint() -> str:
    """Changes whenever the queue does (for the console's live updates)."""
    row = await database().run(
        lambda c: c.execute(
            sa.select(sa.func.count(), sa.func.max(handoffs.c.updated_at), sa.func.max(handoffs.c.id)).where(
                handoffs.c.state.in_(OPEN_STATES)
            )
        ).one()
    )
    resolved = await database().run(lambda c: c.execute(sa.select(sa.func.max(handoffs.c.resolved_at))).scalar_one())
    return f"{row[0]}|{row[1]}|{row[2]}|{resolved}"


# --- notes --------------------------------------------------------------------------


async def add_note(handoff_id: int, author: str, text: str) -> Note:
    def work(connection: Connection) -> Note:
        new_id = connection.execute(
            handoff_notes.insert().values(handoff_id=handoff_id, author=author, text=text, created_at=utcnow())
        ).inserted_primary_key[0]
        return Note.from_row(connection.execute(sa.select(handoff_notes).where(handoff_notes.c.id == new_id)).one())

    return await database().run(work)


async def notes_for(handoff_ids: List[int], after: int = 0) -> List[Note]:
    if not handoff_ids:
        return []
    rows = await database().run(
        lambda c: c.execute(
            sa.select(handoff_notes)
            .where(handoff_notes.c.handoff_id.in_(handoff_ids), handoff_notes.c.id > after)
            .order_by(handoff_notes.c.id)
        ).all()
    )
    return [Note.from_row(r) for r in rows]


async def handoffs_of(sender_id: str) -> List[Handoff]:
    """Every handoff of a conversation, oldest first (notes of earlier ones stay visible)."""
    rows = await database().run(
        lambda c: c.execute(sa.select(handoffs).where(handoffs.c.sender_id == sender_id).order_by(handoffs.c.id)).all()
    )
    return [Handoff.from_row(r) for r in rows]


# --- audit log ----------------------------------------------------------------------


def write_audit(
    connection: Connection, actor: str, action: str, handoff_id: Optional[int] = None, detail: Optional[str] = None
) -> None:
    """One line of the audit log, in the transaction of the change it records."""
    connection.execute(
        audit_log.insert().values(
            at=utcnow(), actor=actor, action=action, handoff_id=handoff_id, detail=(detail or None) and detail[:256]
        )
    )


async def audit(actor: str, action: str, handoff_id: Optional[int] = None, detail: Optional[str] = None) -> None:
    """One line of the audit log: who did what, to which handoff, and when."""
    await database().run(lambda c: write_audit(c, actor, action, handoff_id, detail))


async def audit_entries(handoff_id: Optional[int] = None, limit: int = 200) -> List[Dict[str, Any]]:
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if handoff_id is not None:
        query = query.where(audit_log.c.handoff_id == handoff_id)
    rows = await database().run(lambda c: c.execute(query).all())
    return [{**dict(r._mapping), "at": aware(r.at)} for r in rows]


# --- staff accounts -----------------------------------------------------------------


class AccountError(ValueError):
    """A username, password or role that cannot be used; `status` is the console's answer."""

    status = 400


class NoAccount(AccountError):
    status = 404


class AccountConflict(AccountError):
    """The name is taken, or the change would leave no active admin."""

    status = 409


@dataclass(frozen=True)
class StaffAccount:
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_sign_in_at: Optional[datetime]
    locked_until: Optional[datetime]

    @classmethod
    def from_row(cls, row: Any) -> "StaffAccount":
        return cls(
            username=row.username,
            role=row.role,
            disabled=bool(row.disabled),
            created_at=aware(row.created_at),
            last_sign_in_at=aware(row.last_sign_in_at),
            locked_until=aware(row.locked_until),
        )

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise AccountError("a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError("that password is too long")
    return password


def check_role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in roles.ROLES:
        raise AccountError(f"a role is one of {', '.join(roles.ROLES)}")
    return value


async def add_staff(username: str, password: str, role: str = roles.DEFAULT) -> str:
    """Create a staff account (an agent unless said otherwise); AccountError when the name is taken or invalid."""
    name = check_username(username)
    role = check_role(role)
    digest = await passwords.hash_password(check_password(password))

    def work(connection: Connection) -> None:
        try:
            with connection.begin_nested():
                connection.execute(
                    staff_users.insert().values(
                        username=name,
                        password_hash=digest,
                        created_at=utcnow(),
                        disabled=False,
                        failed_logins=0,
                        role=role,
                    )
                )
        except sa.exc.IntegrityError:
            raise AccountConflict(f"staff account {name!r} already exists") from None

    await database().run(work)
    return name


async def set_password(username: str, password: str, enable: bool = True) -> None:
    """New password, lockout lifted; every session of the account ends.

    `enable` lets a disabled account sign in again (the CLI's `passwd`); the console keeps it disabled.
    """
    name = check_username(username)
    digest = await passwords.hash_password(check_password(password))
    values: Dict[str, Any] = {"password_hash": digest, "failed_logins": 0, "locked_until": None}
    if enable:
        values["disabled"] = False

    def work(connection: Connection) -> None:
        one = staff_users.update().where(staff_users.c.username == name)
        updated = connection.execute(one.values(**values)).rowcount
        if not updated:
            raise NoAccount(f"no staff account {name!r}")
        connection.execute(staff_sessions.delete().where(staff_sessions.c.username == name))

    await database().run(work)


ACTIVE_ADMIN = sa.and_(staff_users.c.role == roles.ADMIN, sa.not_(staff_users.c.disabled))


def _change_account(connection: Connection, name: str, **values: Any) -> StaffAccount:
    """Change one account, never leaving the console without an active admin; the account as it was.

    The active admins are locked first (PostgreSQL: two admins demoting each other
    at once take turns) and counted again after the change (SQLite holds its one
    writer's lock by then), so the last active admin stays one.
    """
    connection.execute(sa.select(staff_users.c.username).where(ACTIVE_ADMIN).with_for_update()).all()
    row = connection.execute(sa.select(staff_users).where(staff_users.c.username == name)).first()
    if row is None:
        raise NoAccount(f"no staff account {name!r}")
    before = StaffAccount.from_row(row)
    connection.execute(staff_users.update().where(staff_users.c.username == name).values(**values))
    if before.role == roles.ADMIN and not before.disabled:
        left = connection.execute(sa.select(sa.func.count()).select_from(staff_users).where(ACTIVE_ADMIN)).scalar_one()
        if not left:  # raising rolls the change back
            raise AccountConflict(
                f"the last active admin ({name}) can be neither disabled nor demoted:"
                " make another account an admin first"
            )
    return before


async def set_disabled(username: str, disabled: bool) -> None:
    """Stop an account from signing in (its sessions end), or let it again; never the last active admin."""
    name = check_username(username)

    def work(connection: Connection) -> None:
        _change_account(connection, name, disabled=disabled)
        if disabled:
            connection.execute(staff_sessions.delete().where(staff_sessions.c.username == name))

    await database().run(work)


async def set_role(username: str, role: str) -> str:
    """Give an account another role (in force at its next request); its role before. Never the last active admin's."""
    name = check_username(username)
    role = check_role(role)
    return (await database().run(lambda c: _change_account(c, name, role=role))).role


async def list_staff() -> List[StaffAccount]:
    rows = await database().run(lambda c: c.execute(sa.select(staff_users).order_by(staff_users.c.username)).all())
    return [StaffAccount.from_row(r) for r in rows]


async def get_staff(username: str) -> Optional[StaffAccount]:
    try:
        name = check_username(username)
    except AccountError:
        return None
    query = sa.select(staff_users).where(staff_users.c.username == name)
    row = await database().run(lambda c: c.execute(query).first())
    return StaffAccount.from_row(row) if row is not None else None


@dataclass(frozen=True)
class SignIn:
    """What one sign-in attempt came to."""

    username: Optional[str] = None  # signed in as this account; None: refused
    account: Optional[str] = None  # the existing account the attempt named (None: no such account)
    locked_for: Optional[timedelta] = None  # refused because the account is locked, for this much longer
    locked_now: bool = False  # this attempt's wrong password started the lockout


async def sign_in(username: str, password: str) -> SignIn:
    """Check a sign-in; MAX_FAILED_LOGINS wrong passwords in a row lock the account (lockout_duration()).

    A locked account is refused without hashing (whatever the password); an
    unknown name costs the same hash as a known one, so timing does not tell them apart.
    """
    try:
        name = check_username(username)
    except AccountError:
        row = None
    else:
        row = await database().run(
            lambda c: c.execute(sa.select(staff_users).where(staff_users.c.username == name)).first()
        )
    if row is None:
        await passwords.verify(await passwords.dummy_hash(), password)
        return SignIn()
    now = utcnow()
    locked = aware(row.locked_until)
    if locked is not None and locked > now:
        return SignIn(account=name, locked_for=locked - now)
    good = await passwords.verify(row.password_hash, password)
    if row.disabled:
        return SignIn(account=name)
    if not good:
        return await _count_failure(name)
    values: Dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_sign_in_at": now}
    if passwords.needs_rehash(row.password_hash):
        values["password_hash"] = await passwords.hash_password(password)
    await database().run(
        lambda c: c.execute(staff_users.update().where(staff_users.c.username == name).values(**values))
    )
    return SignIn(username=name, account=name)


async def _count_failure(name: str) -> SignIn:
    """One more wrong password for the account, counted atomically; the last allowed one locks it."""
    duration = lockout_duration()

    def work(connection: Connection) -> bool:
        connection.execute(
            staff_users.update()
            .where(staff_users.c.username == name)
            .values(failed_logins=sa.func.coalesce(staff_users.c.failed_logins, 0) + 1)
        )
        locked = connection.execute(
            staff_users.update()
            .where(staff_users.c.username == name, staff_users.c.failed_logins >= MAX_FAILED_LOGINS)
            .values(failed_logins=0, locked_until=utcnow() + duration)
        ).rowcount
        return locked == 1

    if not await database().run(work):
        return SignIn(account=name)
    logger.warning("staff account %s locked for %s after %s failed sign-ins", name, duration, MAX_FAILED_LOGINS)
    return SignIn(account=name, locked_for=duration, locked_now=True)


# --- console sessions ---------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member; `role` is read with the session on every request (a change applies at once)."""

    username: str
    csrf_token: str
    token_hash: str
    expires_at: datetime
    role: str = roles.DEFAULT


async def start_session(username: str) -> tuple:
    """A new session: (the cookie's token, the session). Only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + session_lifetime()
    digest = token_hash(token)

    def work(connection: Connection) -> str:
        connection.execute(
            staff_sessions.insert().values(
                token_hash=digest,
                username=username,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
        return connection.execute(sa.select(staff_users.c.role).where(staff_users.c.username == username)).scalar_one()

    role = await database().run(work)
    return token, StaffSession(username, csrf, digest, expires, role)


TOUCH_EVERY = timedelta(seconds=15)


async def session_for(token: Optional[str], touch: bool = True) -> Optional[StaffSession]:
    """The live session behind a cookie's token; None when unknown, idle too long, or expired."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)

    def work(connection: Connection) -> Optional[StaffSession]:
        row = connection.execute(
            sa.select(staff_sessions, staff_users.c.disabled, staff_users.c.role)
            .join(staff_users, staff_users.c.username == staff_sessions.c.username)
            .where(staff_sessions.c.token_hash == digest)
        ).first()
        if row is None:
            return None
        now = utcnow()
        last_seen = aware(row.last_seen_at)
        expires = aware(row.expires_at)
        if row.disabled or expires <= now or now - last_seen > session_idle():
            connection.execute(staff_sessions.delete().where(staff_sessions.c.token_hash == digest))
            return None
        if touch and now - last_seen >= TOUCH_EVERY:
            connection.execute(
                staff_sessions.update().where(staff_sessions.c.token_hash == digest).values(last_seen_at=now)
            )
        return StaffSession(row.username, row.csrf_token, digest, expires, row.role)

    return await database().run(work)


async def end_session(token_digest: str) -> None:
    await database().run(
        lambda c: c.execute(staff_sessions.delete().where(staff_sessions.c.token_hash == token_digest))
    )


async def purge_expired_sessions() -> int:
    now = utcnow()
    return await database().run(
        lambda c: (
            c.execute(
                staff_sessions.delete().where(
                    sa.or_(staff_sessions.c.expires_at <= now, staff_sessions.c.last_seen_at < now - session_idle())
                )
            ).rowcount
        )
    )


# --- conversations staff may pick up ------------------------------------------------


async def recent_conversations(limit: int = 30) -> List[Dict[str, Any]]:
    """Conversations residents had lately on a channel that can be reached, without an open handoff."""

    def work(connection: Connection) -> List[Dict[str, Any]]:
        busy = sa.select(handoffs.c.sender_id).where(handoffs.c.state.in_(OPEN_STATES))
        rows = connection.execute(
            sa.select(contacts.c.sender_id, contacts.c.channel, contacts.c.updated_at, contacts.c.opted_out)
            .where(contacts.c.sender_id.notin_(busy))
            .order_by(contacts.c.updated_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "sender_id": r.sender_id,
                "channel": r.channel,
                "updated_at": aware(r.updated_at),
                "opted_out": r.opted_out,
            }
            for r in rows
        ]

    return await database().run(work)
