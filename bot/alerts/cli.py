"""`citybot alerts ...`: staff write, preview, approve, send and follow crisis alerts.

    citybot alerts preview --topic water --zone north [--text-es "..."]
    citybot alerts create --topic weather --zone all --severity warning \\
        --text "Heat advisory until Friday." --text-es "Aviso de calor hasta el viernes." \\
        [--faq cooling_warming_centers] [--page] --by dana
    citybot alerts approve ALERT_ID --by lee [--yes]         (a second supervisor, never the author)
    citybot alerts send ALERT_ID --by dana [--yes]
    citybot alerts send ALERT_ID --without-approval --by ADMIN    (an admin's override, audited)
    citybot alerts send --topic ... --severity ... --text ... --without-approval --by ADMIN
    citybot alerts status [ALERT_ID] [--json]
    citybot alerts resume ALERT_ID [--takeover] [--resend-unconfirmed --by NAME] [--by NAME]
    citybot alerts cancel ALERT_ID --by NAME
    citybot alerts subscribe-test --channel sms --address +15551230000 [--topic water] [--zone north]
        [--language es] [--remove]

The two-person rule of the console holds here too (bot.alerts.approval): an
alert is written as a draft, a different supervisor approves it, then it is
sent. `--by` names a real, active staff account (its console username), and
every step is in the audit log with that name; only an admin may send without
an approval, by saying `--without-approval`, which the audit log records as such.

The alert's text is given once per city language: `--text` (or `--text-<code>`
of the default language, `--text-en`) and `--text-<code>` for each other one
(`--text-es`), as the city file's `languages:` lists them. A reader whose
language has no text gets the default language's; preview and send say how
many will, before anything is sent. Staff read this tool in the default
language; residents read their alerts in theirs.

`create --page` also publishes the alert on the city's Facebook Page once it is
approved and sent (the worker posts it, once; `status` shows the post or why
not); it is refused when the Page's settings (MESSENGER_PAGE_ACCESS_TOKEN,
MESSENGER_PAGE_ID) are unset.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, TextIO

from babel import Locale
from tqdm import tqdm

from bot.alerts import approval, page_post, store
from bot.alerts.outgoing import Outgoing, outgoing, sketch
from bot.alerts.store import Alert, AlertContent, AlertError, AlertStatus
from bot.alerts.words import ALL, SEVERITIES, TOPICS, ZONES
from bot.db.engine import utcnow
from bot.i18n.languages import city_languages, default_language
from bot.i18n.messages import messages
from bot.settings import settings

CHANNELS = ("telegram", "sms", "whatsapp", "webchat", "messenger", "instagram")
VIA = "command line"  # how the audit log says a step came from here


def say(message: str, stream: Optional[TextIO] = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


# --- progress -----------------------------------------------------------------------


def _counts(status: AlertStatus) -> str:
    text = f"sent {status.sent}  failed {status.failed}  skipped {status.skipped}  pending {status.pending}"
    return text + (f"  unconfirmed {status.unconfirmed}" if status.unconfirmed else "")


def progress_line(status: AlertStatus, width: int = 30) -> str:
    """`[#########.....]  62%  6200/10000  sent 6180  failed 3  skipped 17  pending 3800`."""
    total = status.total
    share = status.finished / total if total else 1.0
    filled = int(round(share * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  {status.finished}/{total}  {_counts(status)}"


class ProgressBar:
    """On a terminal, tqdm's bar redrawn in place; elsewhere (logs, pipes) a progress line every few seconds."""

    def __init__(self, stream: Optional[TextIO] = None, every: float = 5.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.every = every
        self._last = 0.0
        self._last_line = ""
        self._bar: Optional[tqdm] = None

    def __call__(self, status: AlertStatus) -> None:
        if self.tty:
            self._draw(status)
            return
        line = progress_line(status)
        if line != self._last_line and (time.monotonic() - self._last >= self.every or status.done):
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last = time.monotonic()
        self._last_line = line

    def _draw(self, status: AlertStatus) -> None:
        if self._bar is None:
            self._bar = tqdm(
                total=status.total,
                initial=status.finished,
                file=self.stream,
                unit="msg",
                mininterval=0,
                dynamic_ncols=True,
            )  # the rate counts this job's messages
        self._bar.total = status.total
        self._bar.n = status.finished
        self._bar.set_postfix_str(_counts(status), refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# --- languages -------------------------------------------------------------------------


def language_name(code: str) -> str:
    """A language's name for staff, in the default language ("Spanish")."""
    return Locale.parse(default_language()).languages.get(code) or code


def per_language(counts: Mapping[str, int]) -> str:
    """`English 4, Spanish 2`."""
    return ", ".join(f"{language_name(code)} {number}" for code, number in counts.items()) or "nobody"


def fallback_lines(falling_back: Mapping[str, int]) -> List[str]:
    """`No Spanish text: 12 Spanish readers will get the English text (add --text-es).`"""
    default = language_name(default_language())
    return [
        f"No {language_name(code)} text: {number} {language_name(code)} reader{'s' if number != 1 else ''} "
        f"will get the {default} text (add --text-{code})."
        for code, number in falling_back.items()
    ]


def approval_line(alert: Alert) -> str:
    """Who wrote, approved and sent the alert."""
    parts = [f"revision {alert.revision}"]
    if alert.approved_by and alert.approved_at:
        parts.append(f"approved by {alert.approved_by} at {alert.approved_at:%Y-%m-%d %H:%M} UTC")
    elif alert.is_draft:
        parts.append("not approved yet: a second supervisor must approve it")
    if alert.sent_by and alert.sent_at:
        override = " WITHOUT approval (admin override)" if alert.sent_without_approval else ""
        parts.append(f"sent by {alert.sent_by}{override} at {alert.sent_at:%Y-%m-%d %H:%M} UTC")
    return ", ".join(parts)


def page_line(alert: Alert, post: Optional[page_post.PagePost]) -> Optional[str]:
    """Where the alert's Facebook Page post stands (None: it is not to be posted)."""
    if post is None:
        return "Facebook Page: posted once it is approved and sent" if alert.publish_to_page else None
    if post.state == page_post.PUBLISHED and post.published_at:
        return f"Facebook Page: published at {post.published_at:%Y-%m-%d %H:%M} UTC, post {post.post_id} ({post.url})"
    tried = f" after {post.attempts} attempt(s)" if post.attempts else ""
    if post.state == page_post.PENDING:
        at = f", next attempt at {post.next_attempt_at:%H:%M:%S} UTC" if post.next_attempt_at else ""
        last = f": {post.last_error}" if post.last_error else ""
        return f"Facebook Page: waiting for the worker{tried}{at}{last}"
    if post.state == page_post.POSTING:
        return "Facebook Page: being posted now"
    if post.state == page_post.UNCONFIRMED:
        return f"Facebook Page: UNCONFIRMED{tried} (it may be on the Page; not posted again): {post.last_error}"
    return f"Facebook Page: FAILED{tried}: {post.last_error}"


def describe_status(status: AlertStatus) -> List[str]:
    alert = status.alert
    lines = [
        f"Alert {alert.id} ({alert.state}): {alert.severity} on {alert.topic}, zone {alert.zone}, "
        f"by {alert.created_by or '-'} at {alert.created_at:%Y-%m-%d %H:%M} UTC",
        f"  {approval_line(alert)}",
        f"  {alert.text}",
        *(f"  [{code}] {text}" for code, text in alert.translations.items()),
        f"  {progress_line(status)}",
    ]
    for channel, counts in status.by_channel.items():
        lines.append(f"  {channel:<9} " + "  ".join(f"{state} {n}" for state, n in sorted(counts.items())))
    if status.by_language:
        lines.append(f"  readers: {per_language(status.by_language)}")
    on_page = page_line(alert, status.page_post)
    if on_page:
        lines.append(f"  {on_page}")
    if status.unconfirmed:
        lines.append(
            f"  {status.unconfirmed} message(s) were on their way when a delivery job stopped: they probably "
            "arrived; `citybot alerts resume ID --resend-unconfirmed` sends them again (some may then arrive twice)."
        )
    return lines


# --- commands ------------------------------------------------------------------------


def _senders() -> List[str]:
    from bot.channels.outbound import load_senders_from_env

    return load_senders_from_env()


async def preview(args: argparse.Namespace) -> int:
    result = await store.preview_alert(args.topic, args.zone)
    configured = _senders() if not args.no_channels else list(CHANNELS)
    say(f"An alert on {result.topic}, zone {result.zone}, would reach {result.total} resident(s):")
    for channel, count in result.by_channel.items():
        note = "" if channel in configured else "  (channel not configured here: these would wait)"
        say(f"  {channel:<9} {count}  ({per_language(result.by_channel_language[channel])}){note}")
    if result.opted_out:
        say(f"  ({result.opted_out} matching subscriber(s) opted out with STOP: they get nothing)")
    say(f"By language: {per_language(result.by_language)}")
    for line in fallback_lines(result.falling_back(_texts(args, read_stdin=False))):
        say(f"  {line}")
    return 0


def text_option(language: str) -> str:
    """The option giving the alert in `language`: --text-es (dest text_es)."""
    return f"text_{language}"


def _texts(args: argparse.Namespace, read_stdin: bool = True) -> Dict[str, str]:
    """The alert's texts given on the command line, by language (the default's under its code too)."""
    given: Dict[str, str] = {}
    from_stdin = [code for code in city_languages() if getattr(args, text_option(code), None) == "-"]
    if len(from_stdin) > 1:
        raise AlertError("only one text can be read from stdin (-)")
    for code in city_languages():
        text = getattr(args, text_option(code), None)
        if text == "-":
            text = sys.stdin.read() if read_stdin else "(from stdin)"
        if text is not None:
            given[code] = text.strip()
    return given


def _faq_url(args: argparse.Namespace) -> Optional[str]:
    if not args.faq:
        return None
    from bot.alerts.faq import faq_url

    return faq_url(args.faq)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimates(by_channel_language: Mapping[str, Mapping[str, int]], message_in: Mapping[str, str]) -> List[str]:
    """Per channel: what one message costs its rate limit in each language, and how long the channel takes.

    `by_channel_language`: recipients per channel and language; `message_in`: each language's message.
    """
    from bot.alerts.limiter import rate_for
    from bot.alerts.segments import outside_gsm, sends_per_message

    lines = []
    for channel, counts in by_channel_language.items():
        costs = {code: sends_per_message(channel, message_in[code]) for code in counts}
        rate = rate_for(channel)
        unit = "SMS segment" if channel == "sms" else "message"
        total = sum(number * costs[code] for code, number in counts.items())
        pace = "no rate limit" if rate <= 0 else f"about {_duration(total / rate)} at {rate:g}/s"
        each = ", ".join(
            f"{cost} {unit}{'s' if cost != 1 else ''} in {language_name(code)}" for code, cost in costs.items()
        )
        lines.append(f"{channel}: {each} each, {pace}")
        if channel == "sms":
            for code in counts:
                unusual = outside_gsm(message_in[code])
                if unusual:
                    lines.append(
                        f"  the {language_name(code)} SMS is UCS-2 (67 characters a segment, not 153) because of: "
                        + " ".join(unusual)
                    )
    return lines


def _confirm(question: str, assume_yes: bool, refusal: str = "Not sending") -> bool:
    if assume_yes:
        return True
    try:
        interactive = sys.stdin.isatty()
    except (ValueError, OSError):  # closed or replaced stdin
        interactive = False
    if not interactive:
        say(f"{refusal}: add --yes to go ahead without a question.", sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


async def _deliver(alert_id: int, args: argparse.Namespace) -> int:
    from bot.alerts.delivery.page import close_client, publish_due

    bar = ProgressBar() if not args.quiet else None
    try:
        status = await _deliver_or_follow(alert_id, bar, getattr(args, "takeover", False))
        if status.page_post is not None:  # the worker's step, taken here too (the post is claimed first)
            await publish_due()
            status = await store.alert_status(alert_id)
    finally:
        if bar is not None:
            bar.close()
        await close_client()
    for line in describe_status(status):
        say(line)
    if status.pending:
        say(
            "Some deliveries are still pending (a channel is not configured here, or the job was stopped); "
            f"`citybot alerts resume {alert_id}` or the worker carries on."
        )
    page_failed = status.page_post is not None and status.page_post.state in (page_post.FAILED, page_post.UNCONFIRMED)
    return 0 if status.failed == 0 and status.pending == 0 and not page_failed else 1


async def _deliver_or_follow(alert_id: int, bar: Optional[ProgressBar], takeover: bool) -> AlertStatus:
    """Deliver the alert here; while another job holds it, follow that job, and carry on if it dies."""
    from bot.alerts.delivery.job import run_delivery
    from bot.alerts.delivery.lease import AlertBusy

    told = False
    stop = _stop_on_first_interrupt()
    while True:
        try:
            status = await run_delivery(alert_id, bar, takeover=takeover, stop=stop)
            if stop.is_set():
                say(
                    "\nStopped after the messages on their way; the rest waits for "
                    f"`citybot alerts resume {alert_id}` or the worker."
                )
            return status
        except AlertBusy as busy:
            if not told:
                say(f"{busy}; following it (this one takes over if that job stops).")
                told = True
        while True:
            status = await store.alert_status(alert_id)
            if bar is not None:
                bar(status)
            if status.done or status.alert.state in (store.DONE, store.CANCELLED):
                return status
            lease = status.alert.lease_until
            if lease is None or lease < utcnow():
                break  # nobody holds it any more: deliver it here
            await asyncio.sleep(1.0)


def _stop_on_first_interrupt() -> asyncio.Event:
    """The first Ctrl-C stops the delivery gently (messages on their way finish); a second one at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first(*_: Any) -> None:
        say("\nStopping: finishing the messages on their way (Ctrl-C again to quit at once).", sys.stderr)
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # the next Ctrl-C interrupts at once

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        pass
    return stop


def show_outgoing(found: Outgoing) -> None:
    """Exactly what each language's readers get, who reaches it per channel, who falls back, what it costs."""
    preview = found.preview
    for copy in found.copies:
        if copy.language == default_language() or copy.readers:
            say(f"{language_name(copy.language)} readers will read:\n  " + copy.message.replace("\n", "\n  "))
    say(f"Recipients: {preview.total} (" + ", ".join(f"{c} {n}" for c, n in preview.by_channel.items()) + ")")
    say(f"By language: {per_language(preview.by_language)}")
    for line in fallback_lines(found.falling_back):
        say(f"  {line}")
    for line in estimates(preview.by_channel_language, found.message_in()):
        say(f"  {line}")
    if found.alert.publish_to_page:
        link = f"\n  link: {found.alert.faq_url}" if found.alert.faq_url else ""
        text = page_post.page_message(found.alert).replace("\n", "\n  ")
        say(f"The city's Facebook Page will show, once it is approved and sent:\n  {text}{link}")
    configured = _senders()
    missing = [c for c in preview.by_channel if c not in configured]
    if missing:
        say(
            f"Warning: {', '.join(missing)} not configured in this process; those messages wait for the worker "
            "or a `resume` where they are configured."
        )


def _composed(args: argparse.Namespace) -> AlertContent:
    """The alert the options give (checked when it is shown or written)."""
    texts = _texts(args)
    text = texts.pop(default_language(), "")
    page = getattr(args, "page", False)
    return AlertContent(args.topic, args.zone, args.severity, text, texts, _faq_url(args), page)


async def create(args: argparse.Namespace) -> int:
    """Write a draft: nothing is sent until a second supervisor approves it and someone sends it."""
    content = _composed(args)
    show_outgoing(await outgoing(sketch(content)))
    alert = await approval.draft_alert(content, args.by, via=VIA)
    say(
        f"Alert {alert.id} is a draft by {alert.created_by}. A second supervisor approves it "
        f"(`citybot alerts approve {alert.id} --by NAME`, or in the console at /console/alerts/{alert.id}); "
        f"then `citybot alerts send {alert.id} --by NAME` sends it."
    )
    return 0


async def _alert(alert_id: int) -> Alert:
    alert = await store.get_alert(alert_id)
    if alert is None:
        raise store.NoSuchAlert(f"there is no alert {alert_id}")
    return alert


async def approve(args: argparse.Namespace) -> int:
    """Approve a draft after reading exactly what it sends (the revision read is the one approved)."""
    alert = await _alert(args.alert_id)
    say(f"Alert {alert.id} by {alert.created_by}: {alert.severity} on {alert.topic}, zone {alert.zone}")
    say(f"  {approval_line(alert)}")
    show_outgoing(await outgoing(alert))
    if not _confirm(f"Approve alert {alert.id} as {args.by}?", args.yes, "Not approved"):
        return 1
    approved = await approval.approve_alert(alert.id, args.by, alert.revision, via=VIA)
    say(
        f"Alert {approved.id} approved by {approved.approved_by}; "
        f"`citybot alerts send {approved.id} --by NAME` sends it."
    )
    return 0


async def send(args: argparse.Namespace) -> int:
    """Send an approved draft; or, an admin's override, a draft nobody approved or a new alert at once."""
    if args.alert_id is None:
        if not args.without_approval:
            raise AlertError(
                "an alert needs a second supervisor's approval: `citybot alerts create ... --by YOU`, then "
                "`citybot alerts approve ID --by ANOTHER`, then `citybot alerts send ID --by YOU` "
                "(an admin may add --without-approval, which is audited)"
            )
        content = _composed(args)
        found = await outgoing(sketch(content))
        show_outgoing(found)
        if not _confirm(f"Send to {found.preview.total} resident(s) WITHOUT a second approval?", args.yes):
            return 1
        alert = await approval.send_new_without_approval(content, args.by, via=VIA)
    else:
        if args.topic or args.zone or args.severity or args.faq or _texts(args, read_stdin=False):
            raise AlertError("give either an alert's number or its --topic, --text...: not both")
        draft = await _alert(args.alert_id)
        say(f"Alert {draft.id} by {draft.created_by}: {draft.severity} on {draft.topic}, zone {draft.zone}")
        say(f"  {approval_line(draft)}")
        found = await outgoing(draft)
        show_outgoing(found)
        if draft.is_draft and (draft.approved_by or args.without_approval):
            unapproved = "" if draft.approved_by else " WITHOUT a second approval"
            if not _confirm(f"Send to {found.preview.total} resident(s){unapproved}?", args.yes):
                return 1
        alert = await approval.send_alert(draft.id, args.by, draft.revision, args.without_approval, via=VIA)
    say(f"Alert {alert.id} sent by {alert.sent_by}; delivering.")
    if args.no_wait:
        say(f"The worker delivers it; follow it with `citybot alerts status {alert.id}`.")
        return 0
    return await _deliver(alert.id, args)


async def resume(args: argparse.Namespace) -> int:
    alert = await _alert(args.alert_id)
    if alert.is_draft:
        raise AlertError(f"alert {alert.id} is a draft: it is approved and sent first (`citybot alerts send`)")
    if (alert.state == store.CANCELLED or args.resend_unconfirmed) and not args.by:
        raise AlertError("say who resumes it: --by NAME (a supervisor's console username; it is audited)")
    if alert.state == store.CANCELLED:
        await approval.resume_alert(alert.id, args.by, via=VIA)
        say(f"Alert {alert.id} resumed: what its cancel stopped is sent now.")
    if args.resend_unconfirmed:
        count = await approval.resend_unconfirmed(args.alert_id, args.by, via=VIA)
        say(f"{count} unconfirmed deliver{'y' if count == 1 else 'ies'} queued again.")
    _senders()
    return await _deliver(args.alert_id, args)


async def status(args: argparse.Namespace) -> int:
    if args.alert_id is None:
        found = await store.list_alerts(args.limit)
        if args.json:
            say(json.dumps([a.as_dict() for a in found], indent=2))
            return 0
        if not found:
            say("No alerts yet.")
        for alert in found:
            counts = await store.alert_status(alert.id)
            on_page = f"  page {counts.page_post.state}" if counts.page_post is not None else ""
            say(
                f"{alert.id:>5}  {alert.created_at:%Y-%m-%d %H:%M}  {alert.state:<9} {alert.severity:<9} "
                f"{alert.topic}/{alert.zone}  sent {counts.sent}/{counts.total}{on_page}  {alert.text[:50]}"
            )
        return 0
    result = await store.alert_status(args.alert_id)
    if args.json:
        say(json.dumps(result.as_dict(), indent=2))
    else:
        for line in describe_status(result):
            say(line)
    return 0


async def cancel(args: argparse.Namespace) -> int:
    result = await approval.cancel_alert(args.alert_id, args.by, via=VIA)
    for line in describe_status(result):
        say(line)
    return 0


async def subscribe_test(args: argparse.Namespace) -> int:
    """Subscribe a staff member's own phone, chat or web chat session, to try an alert on themselves."""
    from bot.channels.identity import sender_id_for
    from bot.db.contacts import remember_contact

    address = args.address.strip()
    if args.channel == "whatsapp" and not address.startswith("whatsapp:"):
        address = f"whatsapp:{address}"
    sender_id = sender_id_for(args.channel, address)
    if args.remove:
        change = await store.unsubscribe(sender_id)
        say(f"{sender_id}: unsubscribed ({change.describe(messages())}).")
        return 0
    await remember_contact(sender_id, args.channel, address)
    if args.language:
        from bot.i18n.store import remember_language

        await remember_language(sender_id, args.language)
    change = await store.subscribe(sender_id, args.topic or [ALL], args.zone or [ALL])
    reads = f", reads {language_name(args.language)}" if args.language else ""
    say(f"{sender_id} ({args.channel}{reads}) now gets {change.describe(messages())}.")
    return 0


# --- parser ---------------------------------------------------------------------------


def add_text_options(parser: argparse.ArgumentParser, required: bool) -> None:
    """--text (the default language's, also --text-<code>) and --text-<code> for each other city language."""
    default = default_language()
    parser.add_argument(
        "--text",
        f"--text-{default}",
        dest=text_option(default),
        required=required,
        metavar="TEXT",
        help=f'the message in {language_name(default)} ("-" reads it from stdin); links are fine',
    )
    for code in city_languages():
        if code != default:
            parser.add_argument(
                f"--text-{code}",
                dest=text_option(code),
                metavar="TEXT",
                help=f"the message in {language_name(code)} (without it, {language_name(code)} readers "
                f"get the {language_name(default)} text)",
            )


def add_alert_options(parser: argparse.ArgumentParser, required: bool) -> None:
    """What an alert says: topic, zone, severity, a text per language, an FAQ link."""
    topics, zones = list(TOPICS) + [ALL], list(ZONES) + [ALL]
    parser.add_argument("--topic", choices=topics, required=required)
    parser.add_argument("--zone", choices=zones, required=required)
    parser.add_argument("--severity", choices=list(SEVERITIES), required=required)
    add_text_options(parser, required=required)
    parser.add_argument(
        "--faq",
        metavar="TOPIC",
        help="add the link to this FAQ answer ({PUBLIC_URL}/faq/TOPIC?lang=<the reader's language>)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citybot alerts", description="Crisis alerts: preview, write, approve (a second supervisor), send, follow."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    topics, zones = list(TOPICS) + [ALL], list(ZONES) + [ALL]

    p = commands.add_parser("preview", help="count who an alert would reach, per channel and language")
    p.add_argument("--topic", choices=topics, default=ALL)
    p.add_argument("--zone", choices=zones, default=ALL)
    add_text_options(p, required=False)
    p.add_argument("--no-channels", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=preview)

    by_help = "your console username (a supervisor's account; it is audited)"
    p = commands.add_parser("create", help="write an alert as a draft; a second supervisor approves it")
    add_alert_options(p, required=True)
    p.add_argument(
        "--page",
        action="store_true",
        help="also publish it on the city's Facebook Page once approved and sent "
        "(needs MESSENGER_PAGE_ACCESS_TOKEN and MESSENGER_PAGE_ID)",
    )
    p.add_argument("--by", required=True, help=by_help)
    p.set_defaults(handler=create)

    p = commands.add_parser("approve", help="approve another supervisor's draft, after reading what it sends")
    p.add_argument("alert_id", type=int)
    p.add_argument("--by", required=True, help=by_help + "; never the author")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before approving")
    p.set_defaults(handler=approve)

    p = commands.add_parser("send", help="send an approved alert and follow its delivery")
    p.add_argument(
        "alert_id", type=int, nargs="?", help="the approved draft (without it: --topic... and --without-approval)"
    )
    add_alert_options(p, required=False)
    p.add_argument("--by", required=True, help=by_help)
    p.add_argument(
        "--without-approval",
        action="store_true",
        help="an admin's override: send although no second supervisor approved it (audited as such)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before sending")
    p.add_argument("--no-wait", action="store_true", help="only queue it; the worker delivers it")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=send)

    p = commands.add_parser("resume", help="carry on delivering an alert (after a crash, a stop or a cancel)")
    p.add_argument("alert_id", type=int)
    p.add_argument("--takeover", action="store_true", help="take the alert from a job that still holds it")
    p.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="also send again the messages that were on their way at a crash (may duplicate)",
    )
    p.add_argument("--by", help=by_help + "; needed to resume a cancelled alert or resend")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=resume)

    p = commands.add_parser("status", help="progress of one alert, or the latest alerts")
    p.add_argument("alert_id", type=int, nargs="?")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=status)

    p = commands.add_parser("cancel", help="discard a draft, or stop an alert: what is not sent yet is skipped")
    p.add_argument("alert_id", type=int)
    p.add_argument("--by", required=True, help=by_help)
    p.set_defaults(handler=cancel)

    p = commands.add_parser("subscribe-test", help="subscribe your own phone or chat to try alerts")
    p.add_argument("--channel", choices=list(CHANNELS), required=True)
    p.add_argument("--address", required=True, help="phone number, Telegram chat id or web chat session id")
    p.add_argument("--topic", choices=topics, action="append")
    p.add_argument("--zone", choices=zones, action="append")
    p.add_argument("--language", choices=list(city_languages()), help="the language its alerts come in")
    p.add_argument("--remove", action="store_true", help="unsubscribe it again")
    p.set_defaults(handler=subscribe_test)
    return parser


async def _run(args: argparse.Namespace) -> int:
    """Run a command, then close the channels' connections it may have opened."""
    from bot.channels.outbound import close_senders

    try:
        return await args.handler(args)
    finally:
        await close_senders()


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(
        level=settings().log_level or "WARNING", format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(asyncio.run(_run(args)))
    except (AlertError, ValueError) as error:
        say(f"citybot alerts: {error}", sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("\nStopped. Nothing is lost: `citybot alerts resume ID` (or the worker) carries on.", sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
