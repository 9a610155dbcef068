"""Independent AWS calls made at the same time.

A repair waits on AWS, not on the CPU: calls that do not depend on each other (the
verification reads, the selector puts, the ledger claim and the baseline read) cost
the slowest of them, not their sum. botocore clients are thread-safe once made
(clients.py makes them under a lock); each job here is one or a few calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# More than any repair runs at once (five reads); Lambda allows 1,024 threads. With 1,
# jobs run one after another in the order given (tests that script AWS's answers in
# order, with botocore's Stubber, set it so).
_MAX_WORKERS = 8


def together(jobs: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run `jobs` concurrently; their results by name. If any raised, every job has
    finished by then and the exception of the first job (in `jobs`' order) is raised."""
    if len(jobs) <= 1 or _MAX_WORKERS == 1:
        return {name: job() for name, job in jobs.items()}
    with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(jobs))) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
    results: dict[str, Any] = {}
    for name, future in futures.items():
        results[name] = future.result()  # re-raises that job's exception
    return results
