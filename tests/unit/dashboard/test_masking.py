"""Personal data masked in the texts the dashboard lists, with the patterns the assistant reads residents with."""

from __future__ import annotations

import pytest

from bot.dashboard.masking import mask_personal_data


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("my email is jo.ruiz+city@example.com thanks", "my email is [email] thanks"),
        ("call me at 555-010-1234 please", "call me at [phone] please"),
        ("call me on +1 (555) 010 1234", "call me on [phone]"),
        ("I live at 12 Elm Street, apt 4", "I live at [address], apt 4"),
        ("the corner of Main St and 5th Ave is flooded", "the [address] is flooded"),
        ("vivo en calle Elm 12", "vivo en [address]"),
        ("where is R-KVJ88H?", "where is [reference]?"),
        ("ticket 4471-22 at 300 Oak Ave", "ticket [reference] at [address]"),
        ("request 123456 status", "request [reference] status"),
        ("my name is Ana Ruiz", "my name is [name]"),
        ("me llamo José", "me llamo [name]"),
        ("I'm looking for the dump", "I'm looking for the dump"),  # no capital: not a name
        ("when   is\ntrash day", "when is trash day"),  # on one line
        ("xyzzy", "xyzzy"),
    ],
)
def test_personal_data_is_masked_and_the_rest_kept(typed: str, shown: str) -> None:
    assert mask_personal_data(typed) == shown


def test_nothing_of_the_personal_data_is_left() -> None:
    typed = "I'm Ana, ana@example.org, 555 010 1234, 45 Oak Avenue, ref R-7KQ2MX or 14-01100669"
    masked = mask_personal_data(typed)
    for secret in ("Ana", "ana@", "555", "010", "1234", "45 Oak", "7KQ2MX", "0110"):
        assert secret not in masked, masked
