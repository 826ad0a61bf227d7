"""Counting what a load level did, and its latency percentiles and throughput."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence


@dataclass
class Stats:
    latencies_ms: List[float] = field(default_factory=list)
    latencies_by_language_ms: Dict[str, List[float]] = field(default_factory=dict)
    errors: int = 0
    unexpected: int = 0
    conversations: int = 0
    completed_conversations: int = 0
    error_samples: List[str] = field(default_factory=list)

    def answered(self, latency_ms: float, language: str) -> None:
        """A message answered in `latency_ms`, from a resident writing in `language`."""
        self.latencies_ms.append(latency_ms)
        self.latencies_by_language_ms.setdefault(language, []).append(latency_ms)

    def note(self, kind: str, text: str) -> None:
        if kind == "error":
            self.errors += 1
        else:
            self.unexpected += 1
        if len(self.error_samples) < 8:
            self.error_samples.append(f"{kind}: {text[:300]}")


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(stats: Stats, elapsed_s: float) -> Dict[str, Any]:
    def rounded(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value, 1)

    return {
        "p50_ms": rounded(percentile(stats.latencies_ms, 50)),
        "p95_ms": rounded(percentile(stats.latencies_ms, 95)),
        "p99_ms": rounded(percentile(stats.latencies_ms, 99)),
        "msgs_per_s": round(len(stats.latencies_ms) / elapsed_s, 2) if elapsed_s > 0 else None,
        "errors": stats.errors,
        "unexpected_replies": stats.unexpected,
        "messages": len(stats.latencies_ms),
        "conversations": stats.conversations,
        "completed_conversations": stats.completed_conversations,
        "seconds": round(elapsed_s, 1),
        "error_samples": stats.error_samples,
        # The same messages by the residents' language: Spanish goes through the same model.
        "by_language": {
            language: {
                "p50_ms": rounded(percentile(values, 50)),
                "p95_ms": rounded(percentile(values, 95)),
                "messages": len(values),
            }
            for language, values in sorted(stats.latencies_by_language_ms.items())
        },
    }


def merge(into: Stats, more: Stats) -> None:
    into.latencies_ms.extend(more.latencies_ms)
    for language, values in more.latencies_by_language_ms.items():
        into.latencies_by_language_ms.setdefault(language, []).extend(values)
    into.errors += more.errors
    into.unexpected += more.unexpected
    into.conversations += more.conversations
    into.completed_conversations += more.completed_conversations
    into.error_samples.extend(more.error_samples[: max(0, 8 - len(into.error_samples))])
