"""Residents' messages of every kind, for comparing the NLU's parses."""

SENTENCES = [
    "I need to report a pothole",
    "yes",
    "no, it's 12 Elm Street",
    "when is my trash picked up",
    "whats the status of request 1042",
    "there's grafitti on the bridge",
    "the street light on my block is out",
    "can i talk to a person",
    "thx",
    "how do i pay a parking ticket",
    "gas smell in my basement",
    "what's the weather on mars",
]
