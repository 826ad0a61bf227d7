"""The answer the answers tests edit: the library's hours, as trained and as a supervisor rewrites it."""

from __future__ import annotations

from bot.answers.editable import EditableAnswer, find_answer

LIBRARY = "/console/answers/faq.library_hours"  # its page in the console; + "/en", "/es"


def library_answer() -> EditableAnswer:
    answer = find_answer("faq.library_hours")
    assert answer is not None, "data/nlu/faq.yml has no utter_faq/library_hours"
    return answer


def edited_english(marker: str) -> str:
    """The library answer after `marker`, with every fact of the city file still in it."""
    return (
        f"{marker}: the Main Library, 50 Elm Street, is open Monday to Thursday 9 AM to 8 PM, "
        "Friday and Saturday 9 AM to 5 PM, and closed Sunday. A library card is free for residents."
    )
