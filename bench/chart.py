"""The latency and throughput chart of the report (reports/bench.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Sequence


def chart(results: Dict[str, Any], sides: Sequence[str], levels: Sequence[int], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {"ours": "tab:blue", "stock": "tab:red"}
    for name in sides:
        side = results[name]
        xs = [level for level in levels if side.get(str(level), {}).get("p50_ms") is not None]
        colour = colours.get(name)
        for key, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            latency.plot(
                xs, [side[str(x)][key] for x in xs], style, marker="o", color=colour, label=f"{name} {key[:-3]}"
            )
        throughput.plot(xs, [side[str(x)]["msgs_per_s"] for x in xs], "-", marker="o", color=colour, label=name)
    latency.set_xscale("log")
    latency.set_yscale("log")
    latency.set_xticks(list(levels), [str(level) for level in levels])
    latency.set_xlabel("concurrent conversations")
    latency.set_ylabel("latency per message (ms)")
    latency.set_title("Latency")
    latency.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=8)
    throughput.set_ylim(bottom=0)
    throughput.set_xscale("log")
    throughput.set_xticks(list(levels), [str(level) for level in levels])
    throughput.set_xlabel("concurrent conversations")
    throughput.set_ylabel("messages per second")
    throughput.set_title("Throughput")
    throughput.grid(True, which="both", alpha=0.3)
    throughput.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
