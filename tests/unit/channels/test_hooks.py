"""Channels know no other part of the assistant: those hang their handlers into bot.channels.hooks."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Optional

from bot.channels import hooks

CHANNELS = Path(__file__).resolve().parents[3] / "bot" / "channels"


def imported_modules(path: Path) -> List[str]:
    names: List[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_channel_imports_the_alerts():
    offenders = [
        f"{path.name}: {name}"
        for path in sorted(CHANNELS.glob("*.py"))
        for name in imported_modules(path)
        if name == "bot.alerts" or name.startswith("bot.alerts.")
    ]
    assert offenders == []


async def test_the_first_handler_that_answers_takes_the_message(monkeypatch):
    monkeypatch.setattr(hooks, "_keyword_handlers", [])
    seen: List[str] = []

    async def not_mine(sender_id: str, text: str) -> Optional[str]:
        seen.append(f"not_mine:{text}")
        return None

    async def alerts(sender_id: str, text: str) -> Optional[str]:
        seen.append(f"alerts:{text}")
        return "You get alerts." if text.startswith("ALERTS") else None

    hooks.register_keyword_handler(not_mine)
    hooks.register_keyword_handler(alerts)
    hooks.register_keyword_handler(alerts)  # once is enough
    assert await hooks.handle_keyword("sms-1", "ALERTS ON") == "You get alerts."
    assert await hooks.handle_keyword("sms-1", "hello") is None
    assert seen == ["not_mine:ALERTS ON", "alerts:ALERTS ON", "not_mine:hello", "alerts:hello"]


def test_the_alerts_register_their_keywords(monkeypatch):
    from bot.alerts.keywords import handle_alert_keyword, register_channel_hooks

    monkeypatch.setattr(hooks, "_keyword_handlers", [])

    register_channel_hooks()
    assert handle_alert_keyword in hooks._keyword_handlers
