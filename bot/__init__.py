"""Riverton citizen-services assistant: everything outside Rasa's own dialogue files."""
