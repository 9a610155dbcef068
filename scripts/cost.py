"""`make cost`: what the scheduled reconciler costs a month, measured, written into README.

The reconciler runs against the drill's world (moto, with drill/emulation) on a
healthy organization trail, as it runs every minute when nothing drifted: the calls
it makes are counted at the emulated AWS side, by service and operation, and so are
the management events it adds to the trail (its reads: CloudTrail records them
like anyone's). Prices are list prices in us-east-1, stated with each row; they
are inputs, not measurements.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "layers" / "trailguard", ROOT / "functions"):
    sys.path.insert(0, str(path))

from scripts.readme_sections import replace_section

RUNS_PER_MONTH = {1: 43_800, 5: 8_760}  # 730 hours a month
ASSUMED_SECONDS = 1.0  # per run in Lambda (AWS latency dominates; moto's is below)
# us-east-1 list prices (AWS pricing pages for Lambda, DynamoDB on-demand, CloudTrail).
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND_ARM = 0.0000133334
DYNAMODB_PER_READ = 0.125 / 1_000_000
DYNAMODB_PER_WRITE = 0.625 / 1_000_000
CLOUDTRAIL_PER_EXTRA_MANAGEMENT_EVENT = 2.00 / 100_000  # the first copy is free
_DYNAMODB_READS = {"GetItem", "Scan", "Query"}
_DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def measure(runs: int = 5) -> dict[str, object]:
    from drill.world import ACCOUNT, REGION, seeded_world

    with seeded_world() as world:
        history = world.emulation.history
        world.invoke("ReconcileInvariantsFunction", SCHEDULED)  # first observation
        world.drain_alerts()
        time.sleep(1.1)  # a fresh second of LookupEvents budget, as a minute apart
        del history.served[:]
        since = datetime.now(UTC)
        started = time.perf_counter()
        for _ in range(runs):
            world.invoke("ReconcileInvariantsFunction", SCHEDULED)
        seconds = (time.perf_counter() - started) / runs
        alerts = world.drain_alerts()
        calls = Counter((s, op) for s, op, own in history.served if own)
        # us-east-1: the world's home region, and where IAM and Organizations are kept.
        recorded = [
            e
            for e in history.events(ACCOUNT, REGION)
            if e.time >= since and e.identity.type == "AssumedRole"
        ]
    return {
        "runs": runs,
        "alerts": len(alerts),
        "seconds": seconds,
        "calls": {f"{s}:{op}": n / runs for (s, op), n in sorted(calls.items())},
        "management_events": len(recorded) / runs,
        "read_events": sum(1 for e in recorded if e.read_only) / runs,
    }


def _memory_mb() -> int:
    """The reconciler's memory, as template.yaml gives it."""
    from drill import template as tpl

    loaded = tpl.load_template()
    props = tpl.functions(loaded)["ReconcileInvariantsFunction"]
    return int(props.get("MemorySize") or loaded["Globals"]["Function"]["MemorySize"])


def section(measured: dict[str, object], commit: str) -> str:
    calls: dict[str, float] = measured["calls"]  # type: ignore[assignment]
    per_run = sum(calls.values())
    reads = sum(n for k, n in calls.items() if k.split(":")[1] in _DYNAMODB_READS)
    writes = sum(n for k, n in calls.items() if k.split(":")[1] in _DYNAMODB_WRITES)
    events = float(measured["management_events"])  # type: ignore[arg-type]
    lines = [
        f"Measured by `make cost` on {datetime.now(UTC).date()} at commit {commit}: "
        f"{measured['runs']} reconciler runs on a healthy organization trail "
        f"(moto with drill/emulation; {measured['alerts']} alerts sent), "
        f"{float(measured['seconds']) * 1000:.0f} ms a run against moto.",  # type: ignore[arg-type]
        "",
        "| Calls per run | Count |",
        "|---|---|",
        *[f"| `{name}` | {count:g} |" for name, count in calls.items()],
        f"| **all** | **{per_run:g}** |",
        "",
        "| Per month | every 1 minute | every 5 minutes | price assumed (us-east-1) |",
        "|---|---|---|---|",
    ]

    def row(label: str, per: float, price: float, note: str, money: bool = False) -> str:
        cells = []
        for minutes in (1, 5):
            amount = per * RUNS_PER_MONTH[minutes]
            cells.append(f"${amount * price:.2f}" if money else f"{amount:,.0f}")
        return f"| {label} | {cells[0]} | {cells[1]} | {note} |"

    memory_mb = _memory_mb()
    lambda_price = (
        LAMBDA_PER_REQUEST + LAMBDA_PER_GB_SECOND_ARM * memory_mb / 1024 * ASSUMED_SECONDS
    )
    lines += [
        row("Invocations", 1, 1, "-"),
        row("API calls", per_run, 1, "-"),
        row("Management events added to the trail", events, 1, "-"),
        row(
            f"Lambda (requests + {memory_mb} MB arm64 for 1 s)",
            1,
            lambda_price,
            "$0.20 per million requests, $0.0000133334 per GB-s",
            money=True,
        ),
        row(
            "DynamoDB on demand (reads + writes)",
            1,
            reads * DYNAMODB_PER_READ + writes * DYNAMODB_PER_WRITE,
            "$0.125 per million reads, $0.625 per million writes",
            money=True,
        ),
        row(
            "CloudTrail, if another trail also copies management events",
            events,
            CLOUDTRAIL_PER_EXTRA_MANAGEMENT_EVENT,
            "first copy free; $2.00 per 100,000 in a second copy",
            money=True,
        ),
    ]
    lines += [
        "",
        "The management events are the reconciler's own reads in the table above, DynamoDB "
        "excepted: the organization trail records them in the management account's log like "
        "any other read. DynamoDB calls are data events and are not recorded. A run that finds "
        "drift, a delivery incident or a blind window adds the repair's calls and "
        "one LookupEvents per pending blind window and region (up to 4 pages of 50).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    import subprocess

    os.chdir(ROOT)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    body = section(measure(), commit or "unknown")
    replace_section("cost", body)
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
