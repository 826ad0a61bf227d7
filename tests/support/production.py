"""How the tests configure a public deployment, and the development key it must refuse."""

PUBLIC_HTTPS = "https://311.riverton.example"
DEV_KEY = "riverton-dev-secret-change-me"  # the development key bot.channels.identity falls back to
