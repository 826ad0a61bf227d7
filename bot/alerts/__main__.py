"""`python -m bot.alerts ...` is `citybot alerts ...`."""

import sys

from bot.alerts.cli import main

sys.exit(main())
