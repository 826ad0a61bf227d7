"""A load level's figures: latency percentiles and throughput, overall and by the residents' language."""

from __future__ import annotations

from bench.stats import Stats, merge, summarize


def test_latencies_are_split_by_language_and_merged_across_rounds() -> None:
    first, second = Stats(), Stats()
    for ms in (10.0, 20.0, 30.0):
        first.answered(ms, "en")
    first.answered(100.0, "es")
    second.answered(200.0, "es")
    merge(first, second)
    row = summarize(first, elapsed_s=2.0)
    assert row["messages"] == 5 and row["msgs_per_s"] == 2.5
    assert row["by_language"] == {
        "en": {"p50_ms": 20.0, "p95_ms": 29.0, "messages": 3},
        "es": {"p50_ms": 150.0, "p95_ms": 195.0, "messages": 2},
    }
