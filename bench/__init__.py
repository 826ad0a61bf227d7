"""Development tools, run from the project root and not installed with the assistant.

`make bench` runs `python -m bench.speed` (speed and scale against stock Rasa),
`make eval` runs `python -m bench.eval` (the NLU on data it was not trained on).
"""
