"""`python -m bot.handoff.console`: the staff console's server."""

from bot.handoff.console.app import main

raise SystemExit(main())
