"""Peak memory of the Rasa server processes, Sanic workers included: RSS in total and per process, and PSS in total."""

from __future__ import annotations

import threading
from typing import Callable, Dict, List

from bench.procfs import children_by_parent, process_tree, pss_mb, rss_mb


def process_tree_rss_by_process_mb(root_pids: List[int]) -> Dict[int, float]:
    """Each process of the trees and its resident memory, in MB."""
    children = children_by_parent()
    return {pid: rss_mb(pid) for root in root_pids for pid in process_tree(root, children)}


class RssSampler:
    """Samples the Rasa server processes' memory twice a second; keeps the peaks.

    A worker's memory is shared with its parent where pages were not written
    since the fork, so the RSS total counts those pages twice: it is an upper
    bound. The PSS total counts each page once: the memory the processes take together.
    """

    def __init__(self, pids: Callable[[], List[int]]) -> None:
        self.pids = pids
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self.peak_by_process_mb: Dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sample = process_tree_rss_by_process_mb(self.pids())
                self.peak_mb = max(self.peak_mb, sum(sample.values()))
                self.peak_pss_mb = max(self.peak_pss_mb, sum(pss_mb(pid) for pid in sample))
                for pid, mb in sample.items():
                    self.peak_by_process_mb[pid] = max(self.peak_by_process_mb.get(pid, 0.0), mb)
            except Exception:  # a process that just exited: next sample
                pass
            self._stop.wait(0.5)

    def per_process(self) -> List[float]:
        """Each process's peak, largest first (the main process and its workers), in MB."""
        return sorted((round(mb, 1) for mb in self.peak_by_process_mb.values() if mb > 0), reverse=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
