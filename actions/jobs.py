"""City jobs in conversation: "is the city hiring?", "any parks jobs?", one posting's pay, job alerts.

No entities: the resident's words are read with the jobs service's own matching
(bot.jobs: a posting's title, a kind, a department, a keyword, in every city
language), over the open postings only. An answer lists at most three postings;
the ones it left out wait in the `jobs_more` slot for its "More jobs" button. On
SMS the answers take their compact form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Text, Tuple, Union

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent, latest_text, resident_messages
from bot.db.contacts import contact_for
from bot.i18n.messages import Messages
from bot.jobs import subscriptions, texts
from bot.jobs.kinds import kinds_in
from bot.jobs.postings import Posting
from bot.jobs.queries import (
    OpenJobs,
    by_department,
    by_kind,
    departments_of,
    find_postings,
    keywords_in,
    open_jobs,
    openings_by_department,
    posting_by_id,
    with_keyword,
)

MORE_SLOT = "jobs_more"
MORE_PAYLOAD = "/more_jobs"
DETAILS_INTENT = "ask_job_details"
SMS = "sms"


async def channel_of(sender_id: str) -> Optional[str]:
    """The conversation's channel as its contact row has it ("sms", "webchat"); None without one (REST)."""
    contact = await contact_for(sender_id)
    return str(contact.channel) if contact is not None else None


Answer = Tuple[Union[str, texts.JobsAnswer], Sequence[Posting]]  # the answer and the postings it lists


def _send(dispatcher: CollectingDispatcher, answer: Answer, words: Messages) -> List[EventType]:
    """Send the answer (a list with its "More jobs" button); remember what a list left out."""
    reply, listed = answer
    if isinstance(reply, str):
        dispatcher.utter_message(text=reply)
        return [SlotSet(MORE_SLOT, None)]
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons(words, MORE_PAYLOAD))
    left_out = [posting.identifier for posting in listed[len(reply.shown) :]] if reply.more else []
    return [SlotSet(MORE_SLOT, left_out or None)]


def _named(said: str, jobs: OpenJobs, words: Messages, compact: bool) -> Optional[Answer]:
    """The posting(s) whose title the words name: one posting's details, several as a list; None: no title named."""
    named = find_postings(jobs.postings, said)
    if len(named) == 1:
        return texts.details_answer(named[0], words, jobs.careers_url, compact), named
    if named:
        heading = words.plural("jobs.heading.matches", len(named))
        return texts.list_answer(heading, named, words, jobs.careers_url, compact), named
    return None


def question_answer(intent: Optional[str], said: str, jobs: OpenJobs, words: Messages, compact: bool) -> Answer:
    """What answers the resident's words, and the postings it lists (a list's "more" are the rest).

    About one posting (its pay, its closing date): the posting whose title the words
    name. Else, in this order, a kind ("part-time"), a department ("parks"), a keyword
    ("driver"), a posting's title ("customer service jobs?"); with none of them, how
    many jobs are open in each department.
    """
    postings = jobs.postings
    named = _named(said, jobs, words, compact) if intent == DETAILS_INTENT else None
    if named is not None:
        return named
    kinds = kinds_in(said)
    if kinds:
        found = by_kind(postings, kinds[0])
        return texts.kind_answer(kinds[0], found, words, jobs.careers_url, compact), found
    department = by_department(postings, said)
    if department.departments:
        hiring = departments_of(postings)
        found = list(department.postings)
        answer = texts.department_answer(department.departments, found, hiring, words, jobs.careers_url, compact)
        return answer, found
    keywords = keywords_in(said)
    if keywords:
        found = with_keyword(postings, keywords[0])
        return texts.keyword_answer(keywords[0], found, words, jobs.careers_url, compact), found
    named = _named(said, jobs, words, compact) if intent != DETAILS_INTENT else None
    return named or (texts.hiring_answer(openings_by_department(postings), words, jobs.careers_url), ())


@dataclass(frozen=True)
class Asked:
    """What every jobs action reads first: the resident's texts, channel and words, and the open postings."""

    words: Messages
    channel: Optional[str]  # None: a conversation no message can reach (REST)
    said: str
    jobs: OpenJobs

    @property
    def compact(self) -> bool:
        return self.channel == SMS


class JobsAction(Action):
    """A jobs action: `answer` gets what was asked, and says what to send back."""

    action_name = ""

    def name(self) -> Text:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        words = resident_messages(tracker)
        asked = Asked(words, await channel_of(tracker.sender_id), latest_text(tracker), await open_jobs())
        return await self.answer(dispatcher, tracker, asked)

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> List[EventType]:
        raise NotImplementedError


class ActionAnswerJobs(JobsAction):
    """Answers a question about city jobs from the open postings."""

    action_name = "action_answer_jobs"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> List[EventType]:
        intent = latest_intent(tracker)[0]
        return _send(
            dispatcher, question_answer(intent, asked.said, asked.jobs, asked.words, asked.compact), asked.words
        )


class ActionMoreJobs(JobsAction):
    """The "More jobs" button: the postings the latest list left out that are still open."""

    action_name = "action_more_jobs"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> List[EventType]:
        words, jobs = asked.words, asked.jobs
        wanted = [str(identifier) for identifier in tracker.get_slot(MORE_SLOT) or []]
        postings = [p for p in (posting_by_id(jobs.postings, i) for i in wanted) if p is not None]
        if not postings:
            hiring = texts.hiring_answer(openings_by_department(jobs.postings), words, jobs.careers_url)
            return _send(dispatcher, (hiring, ()), words)
        more = texts.list_answer(words.text("jobs.heading.more"), postings, words, jobs.careers_url, asked.compact)
        return _send(dispatcher, (more, postings), words)


def wanted_alert(said: str, postings: Sequence[Posting]) -> Dict[str, str]:
    """The department (as the feed names it) or keyword the words ask job alerts for; empty: neither."""
    departments = by_department(postings, said).departments
    if departments:
        return {"department": departments[0]}
    keywords = keywords_in(said)
    return {"keyword": keywords[0]} if keywords else {}


def _what(wanted: Dict[str, str], words: Messages) -> str:
    department = wanted.get("department")
    return texts.department_label(department, words) if department else wanted.get("keyword", "")


class ActionSubscribeJobs(JobsAction):
    """Job alerts for new postings of a department or with a keyword, on the resident's channel."""

    action_name = "action_subscribe_jobs"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> List[EventType]:
        words, jobs = asked.words, asked.jobs
        if asked.channel is None:
            dispatcher.utter_message(text=words.text("jobs.alert.unreachable", url=jobs.careers_url or ""))
            return []
        wanted = wanted_alert(asked.said, jobs.postings)
        if not wanted:
            hiring = texts.departments_label(departments_of(jobs.postings), words)
            dispatcher.utter_message(text=words.text("jobs.alert.which", departments=hiring))
            return []
        await subscriptions.subscribe_to_jobs(tracker.sender_id, asked.channel, words.language, **wanted)
        key = "jobs.alert.subscribed_department" if "department" in wanted else "jobs.alert.subscribed_keyword"
        dispatcher.utter_message(text=words.text(key, department=_what(wanted, words), keyword=_what(wanted, words)))
        return []


class ActionUnsubscribeJobs(JobsAction):
    """Stops job alerts in one message: those of a department or keyword when one is named and held, else all."""

    action_name = "action_unsubscribe_jobs"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> List[EventType]:
        words = asked.words
        held = await subscriptions.job_subscriptions_of(tracker.sender_id)
        if not held:
            dispatcher.utter_message(text=words.text("jobs.alert.none"))
            return []
        wanted = wanted_alert(asked.said, [Posting(identifier="", title="", department=s.department) for s in held])
        if wanted and len(held) > 1 and await subscriptions.unsubscribe_from_jobs(tracker.sender_id, **wanted):
            dispatcher.utter_message(text=words.text("jobs.alert.unsubscribed_some", what=_what(wanted, words)))
            return []
        await subscriptions.unsubscribe_from_jobs(tracker.sender_id)
        dispatcher.utter_message(text=words.text("jobs.alert.unsubscribed"))
        return []
