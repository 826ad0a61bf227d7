"""`python -m bot.open311 --port 8311 --db var/open311.db` runs the reference server."""

from bot.open311.server import main

if __name__ == "__main__":
    main()
