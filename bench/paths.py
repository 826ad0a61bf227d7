"""What the benchmark reads (the two configurations, domain and data) and where it writes."""

from __future__ import annotations

from bot.process.procs import PROJECT_ROOT

CONFIG_OURS = PROJECT_ROOT / "config.yml"
CONFIG_STOCK = PROJECT_ROOT / "bench" / "config_stock.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
DATA = PROJECT_ROOT / "data"
CACHE = PROJECT_ROOT / "var" / "bench"
REPORTS = PROJECT_ROOT / "reports"
