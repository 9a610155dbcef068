"""The bench's table: verdicts follow the measured figures, and a missed target says why."""

from __future__ import annotations

from typing import Any

from bench.run import build_rows, readme_text


def _stats(ms: float) -> dict[str, float]:
    return {"median": ms / 1000, "min": ms / 1000, "max": ms / 1000, "n": 1}


def _calls(**by_service: int) -> dict[str, Any]:
    return {
        "total": sum(by_service.values()),
        "by_service": by_service,
        "by_operation": {},
        "varies": False,
        "totals": [sum(by_service.values())],
    }


def _side(ms: float, calls: dict[str, Any], resumed: float | None = None, **parts: float) -> Any:
    side = {"time": _stats(ms), "calls": calls}
    side |= {key: _stats(value) for key, value in parts.items()}
    side["resumed"] = _stats(resumed) if resumed is not None else None
    for key in ("outside_http", "outside_api_calls", "init", "init_cpu"):
        side.setdefault(key, _stats(ms / 10))
    return side


def _results(trailguard_cold_calls: int, trailguard_resumed: float) -> dict[str, Any]:
    minimum = _calls(cloudtrail=2, sns=1)
    mine = _calls(cloudtrail=2, dynamodb=trailguard_cold_calls - 3, sns=1)
    stop = {
        "trailguard": _side(300, mine, 110, init=40, invoke=260),
        "bare": _side(290, minimum, 100, init=100, invoke=190),
        "c7n": _side(900, _calls(cloudtrail=3, iam=1, sns=1, tagging=1), 500),
        "c7n_cached": _side(800, _calls(cloudtrail=3, iam=1, sns=1, tagging=1), 450),
    }
    warm = {
        "trailguard": _side(320, _calls(cloudtrail=2, dynamodb=1, sns=1), 110),
        "trailguard_named": _side(310, _calls(cloudtrail=2, dynamodb=1, sns=1), 105),
        "bare": _side(300, minimum, 100),
        "c7n": _side(700, _calls(cloudtrail=3, sns=1), 400),
        "c7n_no_alert": _side(50, _calls(cloudtrail=3)),
    }
    delete = {
        "trailguard": _side(1200, _calls(cloudtrail=12, dynamodb=2), trailguard_resumed),
        "bare": _side(1000, _calls(cloudtrail=9, sns=1), 400),
    }
    storm = {
        "events": 1000,
        "environments": 1,
        "repairs": 1,
        "alerts_published": 1,
        "calls_per_event": 2.0,
        "total_s": 3.0,
    }
    return {
        "memory_size_mb": 1024,
        "cold_start": {
            "RestoreTrailFunction": {"trailguard": stop["trailguard"], "bare": stop["bare"]}
        },
        "as_shipped": {
            "trailguard": stop["trailguard"],
            "bare": stop["bare"],
            "c7n": stop["c7n"],
            "c7n_cached": stop["c7n_cached"],
            "trailguard_source": stop["trailguard"],
        },
        "repair": {**warm, "latency": warm, "cold": stop},
        "recreate": {**delete, "latency": delete, "cold": delete},
        "scale": {
            "1 trails, 1 accounts": {
                "trails": 1,
                "accounts": 1,
                "time": _stats(700),
                "calls": _calls(cloudtrail=5),
            },
            "1 trails, 50 accounts": {
                "trails": 1,
                "accounts": 50,
                "time": _stats(700),
                "calls": _calls(cloudtrail=5),
            },
        },
        "storm": {
            "trailguard": storm,
            "trailguard_concurrent": {
                **storm,
                "environments": 2,
                "repairs": 2,
                "alerts_published": 2,
            },
            "trailguard_persistent": {**storm, "repairs": 1000, "alerts_published": 6},
            "bare": {**storm, "repairs": 1000, "alerts_published": 1000, "total_s": 9.0},
            "c7n": {**storm, "total_s": 20.0},
        },
    }


def _row(rows: list[list[str]], start: str) -> list[str]:
    return next(row for row in rows if row[0].startswith(start))


def test_a_cold_incident_over_the_call_budget_is_missed_with_its_calls() -> None:
    rows = build_rows(_results(trailguard_cold_calls=5, trailguard_resumed=300))
    budget = _row(rows, "2 API calls, cold StopLogging incident")
    assert "**MISSED**" in budget[-1] and "dynamodb 2" in budget[-1]
    assert "met" in _row(rows, "2 API calls, warm StopLogging incident")[-1]


def test_logging_back_sooner_than_the_minimum_meets_the_recreate_target() -> None:
    met = build_rows(_results(trailguard_cold_calls=4, trailguard_resumed=300))
    assert _row(met, "2 API calls, cold StopLogging incident")[-1].endswith("met")
    resumed = [row for row in met if row[0] == "3 ... until logging resumed"]
    assert resumed and all(row[-1] == "<= 0.80x minimum: met" for row in resumed)
    missed = build_rows(_results(trailguard_cold_calls=4, trailguard_resumed=390))
    assert "**MISSED**" in next(r for r in missed if r[0] == "3 ... until logging resumed")[-1]


def test_reconciler_calls_that_do_not_grow_with_accounts_are_met() -> None:
    rows = build_rows(_results(trailguard_cold_calls=4, trailguard_resumed=300))
    assert _row(rows, "4 Reconciler run, nothing drifted, latency profile: 1 trails, 50")[-1] == (
        "calls do not grow with accounts: met"
    )


def test_readme_text_names_the_machine_the_samples_and_the_profile() -> None:
    results = _results(trailguard_cold_calls=4, trailguard_resumed=300) | {
        "machine": {
            "date": "2026-12-01 10:00 UTC",
            "commit": "abc1234",
            "nproc": 2,
            "cpu": "test CPU",
            "python": "3.13.0",
            "versions": {"boto3": "1"},
        },
        "samples": {"cold": 1, "warm": 2, "latency": 3, "storm": 4},
        "seconds": 60,
        "imports": {"top_cumulative": [], "trailguard_by_self": [], "trailguard_self_total_ms": 0},
    }
    text = readme_text(results, "| table |")
    assert "commit abc1234" in text and "3 warm under the latency profile" in text
    assert "100 ms per call by default" in text and "| table |" in text
