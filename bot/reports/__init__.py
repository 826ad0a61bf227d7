"""Service requests as a conversation: questions, answers, summaries, filing and status."""
