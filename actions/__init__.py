"""Rasa SDK custom actions. They stay thin: the work is done by services in `bot/`."""
