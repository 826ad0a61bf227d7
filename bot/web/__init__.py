"""The web chat page, its script and styles (served by bot.channels.webchat)."""
