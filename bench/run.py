"""`make bench`: trailguard against the bare-boto3 minimum and Cloud Custodian, side by side.

One process tree: this orchestrator (the project's .venv), a counting moto
server on 127.0.0.1 (bench/work/venv), and worker processes for each side
(trailguard and the bare minimum in .venv, Cloud Custodian in
bench/work/c7n-venv). Every side gets the same number of samples; figures are
median (min-max). Prints one table and writes bench/work/results.json and
bench/work/results.md (with --quick: results-quick.json and results-quick.md, so
that a quick look never replaces the figures of a full run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import harness as h

ROOT = h.ROOT
WORK = h.WORK
SPECS = WORK / "specs"
LOGS = WORK / "logs"
PYTHON = sys.executable  # the project's .venv: trailguard and the bare minimum
SERVER_PYTHON = WORK / "venv" / "bin" / "python"
C7N_PYTHON = WORK / "c7n-venv" / "bin" / "python"
LAYER = ROOT / "layers" / "trailguard"
FUNCTIONS = ROOT / "functions"
COLD = ROOT / "bench" / "cold.py"
TRAIL_FUNCTION = "RestoreTrailFunction"
# Lambda gives a function one vCPU's worth of CPU at 1,769 MB, and CPU in proportion to
# memory below that (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
VCPU_MB = 1769

# The clients each function can use (the adapters it reaches; see runtime.py).
# The bare floor creates the same ones.
SERVICES = {
    "restore_trusted_access": ["organizations", "dynamodb", "sns"],
    "restore_trail": ["cloudtrail", "dynamodb", "sns", "organizations"],
    "restore_service_linked_role": ["iam", "dynamodb", "sns"],
    "capture_baseline": ["cloudtrail", "dynamodb"],
    "alert_self_tampering": ["dynamodb", "sns"],
    "reconcile_invariants": ["organizations", "iam", "cloudtrail", "dynamodb", "sns"],
}
DEFAULT_SERVICES = ["dynamodb", "sns"]


# ------------------------------------------------------------------ statistics
def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def ms(summary: Mapping[str, float] | None) -> str:
    if not summary:
        return "-"
    return (
        f"{summary['median'] * 1000:.1f} ms "
        f"({summary['min'] * 1000:.1f}-{summary['max'] * 1000:.1f})"
    )


def call_summary(rows: list[list[Any]], caller: str) -> dict[str, Any]:
    """Calls one side made: total, by service, by operation."""
    by_service: dict[str, int] = {}
    by_operation: dict[str, int] = {}
    server_s: dict[str, float] = {}
    for who, service, operation, count, seconds in rows:
        if who != caller:
            continue
        by_service[service] = by_service.get(service, 0) + count
        key = f"{service}:{operation}"
        by_operation[key] = by_operation.get(key, 0) + count
        server_s[key] = server_s.get(key, 0.0) + seconds
    return {
        "total": sum(by_service.values()),
        "by_service": dict(sorted(by_service.items())),
        "by_operation": dict(sorted(by_operation.items())),
        "server_s": sum(server_s.values()),
        "server_s_by_operation": dict(sorted(server_s.items())),
    }


def same_calls(samples: list[dict[str, Any]], caller: str) -> dict[str, Any]:
    """The call summary of the samples, which must agree with each other."""
    summaries = [call_summary(s["calls"], caller) for s in samples]
    shapes = [json.dumps(s["by_operation"]) for s in summaries]
    distinct = set(shapes)
    # The most frequent breakdown stands for the samples; "totals" keeps every one.
    first = summaries[shapes.index(max(distinct, key=shapes.count))]
    per_operation: dict[str, list[float]] = {}
    for summary in summaries:
        for key, seconds in summary["server_s_by_operation"].items():
            per_operation.setdefault(key, []).append(seconds)
    return {
        **first,
        "varies": len(distinct) > 1,
        "totals": [s["total"] for s in summaries],
        "server_s": statistics.median(s["server_s"] for s in summaries),
        "server_s_by_operation": {k: statistics.median(v) for k, v in per_operation.items()},
    }


# ------------------------------------------------------------------ processes
def clean_environment() -> dict[str, str]:
    """This machine's environment without any AWS or Python path settings."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PYTHON", "POWERTOOLS_", "C7N_", "VIRTUAL_ENV"))
    }
    return {
        **keep,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": h.REGION,
        "AWS_REGION": h.REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        # Bytecode is cached (as in a warm file system), but under bench/work/ only:
        # nothing is written next to the project's sources.
        "PYTHONPYCACHEPREFIX": str(WORK / "pycache"),
    }


def _log(name: str) -> Any:
    LOGS.mkdir(parents=True, exist_ok=True)
    return (LOGS / f"{name}.log").open("a")


def run_process(
    argv: list[str], env: Mapping[str, str], name: str, cwd: Path = ROOT, timeout: float = 600
) -> float:
    """Run to completion; stdout (the functions' logs) is discarded. Returns wall seconds."""
    started = time.perf_counter()
    with _log(name) as log:
        completed = subprocess.run(  # noqa: S603 (our own interpreters and scripts)
            argv,
            env=dict(env),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log,
            timeout=timeout,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed ({completed.returncode}): see {LOGS / name}.log")
    return time.perf_counter() - started


_SPEC_COUNTER = [0]


def write_spec(name: str, spec: dict[str, Any]) -> tuple[Path, Path]:
    SPECS.mkdir(parents=True, exist_ok=True)
    _SPEC_COUNTER[0] += 1
    stem = f"{name}-{_SPEC_COUNTER[0]}"
    out = SPECS / f"{stem}.out.json"
    out.unlink(missing_ok=True)
    path = SPECS / f"{stem}.json"
    h.write_json(path, {**spec, "out": str(out)})
    return path, out


@contextmanager
def moto_server() -> Iterator[str]:
    ready = WORK / "server.port"
    ready.unlink(missing_ok=True)
    env = {**clean_environment(), "MOTO_ACCOUNT_ID": h.ACCOUNT}
    with _log("server") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(SERVER_PYTHON), str(ROOT / "bench" / "server.py"), "--ready", str(ready)],
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        h.wait_for(ready, timeout=60)
        yield f"http://127.0.0.1:{ready.read_text().strip()}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_only(tree: Path) -> None:
    """As /var/task and /opt are in Lambda: nothing can be written, no bytecode cached."""
    for path in sorted(tree.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    tree.chmod(0o555)


def _writable(tree: Path) -> None:
    if tree.exists():
        tree.chmod(0o755)
        for path in tree.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)


# ------------------------------------------------------------------ the world
class Bench:
    def __init__(self, endpoint: str, samples: Mapping[str, int]) -> None:
        self.endpoint = endpoint
        self.samples = samples
        self.base_env = {**clean_environment(), "AWS_ENDPOINT_URL": endpoint}
        os.environ.update(self.base_env)
        self.results: dict[str, Any] = {}

    # -------------------------------------------------------------- seeding
    def seed(self) -> None:
        """The account and stack, as the drill seeds them from template.yaml (drill/world.py),
        against the server instead of an in-process mock."""
        sys.path[:0] = [str(LAYER), str(FUNCTIONS)]
        from drill import template as tpl  # noqa: PLC0415 (needs the paths above)
        from drill.world import LOG_BUCKET, World  # noqa: PLC0415

        world = World()
        self.world = world
        self.parameters = dict(world.parameters)
        globals_ = tpl.load_template().get("Globals", {}).get("Function", {})
        self.results["memory_size_mb"] = int(globals_.get("MemorySize", 128))
        layer = tpl.resources().get("TrailguardLayer", {})
        self.layer_build_method = str(layer.get("Metadata", {}).get("BuildMethod", ""))
        self.function_env = {
            **self.base_env,
            **world.environment,
            "AWS_ENDPOINT_URL": self.endpoint,
            "BENCH_TRAIL_BASELINE": json.dumps(
                {
                    "create": {
                        "Name": h.TRAIL_NAME,
                        "S3BucketName": LOG_BUCKET,
                        "S3KeyPrefix": "org",
                        "SnsTopicName": "org-trail-deliveries",
                        "IncludeGlobalServiceEvents": True,
                        "IsMultiRegionTrail": True,
                        "IsOrganizationTrail": True,
                        "EnableLogFileValidation": True,
                        "KmsKeyId": world.trail_key_arn,
                        "CloudWatchLogsLogGroupArn": world.trail_log_group_arn,
                        "CloudWatchLogsRoleArn": world.trail_logs_role_arn,
                        "TagsList": [
                            {"Key": "owner", "Value": "security"},
                            {"Key": "purpose", "Value": "audit"},
                        ],
                    },
                    "event_selectors": [
                        {
                            "ReadWriteType": "All",
                            "IncludeManagementEvents": True,
                            "DataResources": [
                                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}
                            ],
                        }
                    ],
                    "insight_selectors": [{"InsightType": "ApiCallRateInsight"}],
                }
            ),
        }
        self.functions = {
            logical_id: props["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
            for logical_id, props in tpl.functions().items()
            if (ROOT / props["CodeUri"] / "app.py").exists()
        }
        self._write_c7n_configs()
        world.drain_alerts()
        h.server_reset()

    def _write_c7n_configs(self) -> None:
        policy = {
            "name": "keep-org-trail-logging",
            "resource": "aws.cloudtrail",
            # Event-driven, as trailguard is: Custodian's own Lambda entry point
            # (c7n.handler.dispatch_event) with the config.json `custodian run` provisions.
            "mode": {
                "type": "cloudtrail",
                "role": f"arn:aws:iam::{h.ACCOUNT}:role/custodian-bench",
                "events": [
                    {
                        "source": "cloudtrail.amazonaws.com",
                        "event": "StopLogging",
                        "ids": "requestParameters.name",
                    }
                ],
            },
            "filters": [{"type": "status", "key": "IsLogging", "value": False}],
            "actions": [{"type": "set-logging", "enabled": True}],
        }
        notify = {
            "type": "notify",
            "to": ["security@example.com"],
            "subject": "StopLogging: trail restarted",
            "transport": {"type": "sns", "topic": self.world.topic_arn},
        }
        variants = {
            "c7n-run": [*policy["actions"], notify],
            "c7n-run-no-alert": policy["actions"],
        }
        for directory, actions in variants.items():
            (WORK / directory).mkdir(parents=True, exist_ok=True)
            h.write_json(
                WORK / directory / "config.json",
                {
                    # `custodian run` serialises its options; the account id among them
                    # spares the Lambda an sts:GetCallerIdentity call.
                    "execution-options": {"account_id": h.ACCOUNT, "region": h.REGION},
                    "policies": [{**policy, "actions": actions}],
                },
            )

    # -------------------------------------------------------------- sides
    def spec(self, side: str, function: str = TRAIL_FUNCTION, **extra: Any) -> dict[str, Any]:
        package = self.functions.get(function, "restore_trail")
        base: dict[str, Any] = {"side": side, "function": function}
        if side == "trailguard":
            base |= {
                "module": f"{package}.app",
                "handler": "handler",
                "paths": [str(LAYER), str(FUNCTIONS)],
            }
        elif side == "bare":
            base |= {"handler": "repair_handler", "paths": [str(ROOT)]}
        else:
            base |= {"cwd": str(WORK / "c7n-run"), "paths": []}
        return base | {"services": SERVICES.get(package, DEFAULT_SERVICES)} | extra

    def env(self, side: str, function: str = TRAIL_FUNCTION, **extra: str) -> dict[str, str]:
        env = {**self.function_env, "AWS_LAMBDA_FUNCTION_NAME": function}
        if side == "c7n":
            env = {**self.base_env, "AWS_LAMBDA_FUNCTION_NAME": "custodian-keep-org-trail-logging"}
        return env | extra

    def cold(self, side: str, spec: dict[str, Any], env: Mapping[str, str], tag: str) -> Any:
        path, out = write_spec(f"cold-{tag}", spec)
        # An empty value removes the variable (PYTHONPYCACHEPREFIX would make Python look
        # for bytecode away from the shipped tree's own __pycache__).
        env = {k: v for k, v in env.items() if v != ""}
        wall = run_process([self.python(side), str(COLD), str(path)], env, f"cold-{tag}")
        return {**h.read_json(out), "process_s": wall}

    def python(self, side: str) -> str:
        return str(C7N_PYTHON) if side == "c7n" else PYTHON

    def worker(self, side: str, spec: dict[str, Any], env: Mapping[str, str], tag: str) -> Any:
        path, out = write_spec(f"warm-{tag}", spec)
        run_process([self.python(side), "-m", "bench.worker", str(path)], env, f"warm-{tag}")
        return h.read_json(out)

    # -------------------------------------------------------------- 1. cold start
    def cold_start(self) -> None:
        """Init of every function, bytecode cached: trailguard against the minimum, in turns."""
        n = self.samples["cold"]
        rows: dict[str, Any] = {}
        for function in self.functions:
            runs: dict[str, list[Any]] = {"trailguard": [], "bare": []}
            for index in range(n + 1):  # the first round compiles bytecode: not recorded
                for side, results in runs.items():
                    spec = self.spec(side, function, mode="init")
                    result = self.cold(side, spec, self.env(side, function), f"init-{side}")
                    if index:
                        results.append(result)
            rows[function] = {side: self._cold_summary(results) for side, results in runs.items()}
            print(f"  cold start {function}: done", file=sys.stderr)
        self.results["cold_start"] = rows
        self.results["as_shipped"] = self._as_shipped(n)

    @staticmethod
    def _cold_summary(results: list[Any]) -> dict[str, Any]:
        return {
            "init": stats([r["init_s"] for r in results]),
            "init_cpu": stats([r["init_cpu_s"] for r in results]),
            "process": stats([r["process_s"] for r in results]),
            "modules": results[0]["modules"],
        }

    # The packages each side ships, as its own packaging ships them. Lambda's runtime
    # brings boto3/botocore precompiled, so they come from the interpreter's venv.
    def shipped_sides(self) -> dict[str, tuple[str, dict[str, Any], dict[str, str]]]:
        """name -> (side, spec overrides, environment overrides), every side as it ships:
        trailguard from its precompiled layer (BuildMethod makefile), the minimum as a
        source file, Custodian as `custodian run` packages it (c7n's .py files only), on
        read-only trees with bytecode writing off; and Custodian with cached bytecode."""
        trees = self.trees
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}
        return {
            "trailguard": (
                "trailguard",
                {
                    "paths": [
                        str(trees["compiled"] / "var" / "task"),
                        str(trees["compiled"] / "opt" / "python"),
                    ]
                },
                env,
            ),
            "bare": ("bare", {"paths": [str(trees["compiled"] / "bare")]}, env),
            "c7n": ("c7n", {"paths": [str(trees["c7n"])]}, env),
            "c7n_cached": ("c7n", {}, {}),
        }

    def _as_shipped(self, n: int) -> dict[str, Any]:
        """Init of RestoreTrailFunction as each side ships it, samples in turns (A B C D A
        B C D ...), plus trailguard's layer without bytecode (BuildMethod python3.13)."""
        self.trees = {
            "source": self._lambda_tree("source"),
            "compiled": self._lambda_tree("compiled"),
            "c7n": self._c7n_tree(),
        }
        subprocess.run(  # noqa: S603
            [
                PYTHON,
                "-m",
                "compileall",
                "-q",
                "--invalidation-mode",
                "unchecked-hash",
                str(self.trees["compiled"] / "var"),
                str(self.trees["compiled"] / "opt"),
            ],
            # Into __pycache__ beside the sources, where Lambda would find it.
            env={k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"},
            check=True,
        )
        for tree in self.trees.values():
            _read_only(tree)
        sides = self.shipped_sides()
        source_paths = [
            str(self.trees["source"] / "var" / "task"),
            str(self.trees["source"] / "opt" / "python"),
        ]
        sides["trailguard_source"] = ("trailguard", {"paths": source_paths}, sides["bare"][2])
        runs: dict[str, list[Any]] = {name: [] for name in sides}
        for _ in range(n):
            for name, (side, spec, env) in sides.items():
                spec_ = self.spec(side, mode="init") | spec
                result = self.cold(side, spec_, self.env(side) | env, f"init-shipped-{name}")
                runs[name].append(result)
        print("  cold start as shipped: done", file=sys.stderr)
        return {
            "layer_build_method": self.layer_build_method,
            **{name: self._cold_summary(results) for name, results in runs.items()},
        }

    def _c7n_tree(self) -> Path:
        """c7n as `custodian run` ships it: PythonPackageArchive adds only the .py files
        of the `c7n` package; the rest (boto3 and c7n's other requirements) is found,
        precompiled, in Custodian's venv, which favours Custodian."""
        task = WORK / "lambda-c7n"
        _writable(task)
        shutil.rmtree(task, ignore_errors=True)
        found = subprocess.run(  # noqa: S603
            [str(C7N_PYTHON), "-c", "import c7n, os; print(os.path.dirname(c7n.__file__))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        shutil.copytree(found, task / "c7n", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return task

    def _lambda_tree(self, name: str) -> Path:
        task = WORK / f"lambda-{name}"
        _writable(task)
        shutil.rmtree(task, ignore_errors=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        layer = task / "opt" / "python"
        shutil.copytree(LAYER / "trailguard", layer / "trailguard", ignore=ignore)
        for package in ("aws_lambda_powertools", "jmespath", "typing_extensions"):
            found = importlib.util.find_spec(package)
            assert found is not None and found.origin is not None, package
            origin = Path(found.origin)
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, layer / package, ignore=ignore)
            else:
                shutil.copy2(origin, layer / origin.name)
        shutil.copytree(FUNCTIONS, task / "var" / "task", ignore=ignore)
        (task / "bare" / "bench").mkdir(parents=True)
        shutil.copy2(ROOT / "bench" / "__init__.py", task / "bare" / "bench" / "__init__.py")
        shutil.copy2(ROOT / "bench" / "bare.py", task / "bare" / "bench" / "bare.py")
        return task

    def imports(self) -> None:
        """python -X importtime of RestoreTrailFunction's init: top 10 cumulative."""
        baseline = self._importtime(
            [PYTHON, "-X", "importtime", "-c", "import importlib, json, logging, os, sys, time"]
        )
        path, _ = write_spec("importtime", self.spec("trailguard", mode="init"))
        runs = [
            self._importtime([PYTHON, "-X", "importtime", str(COLD), str(path)]) for _ in range(3)
        ]
        modules = set.intersection(*(set(r) for r in runs)) - set(baseline)
        ranked = sorted(
            (
                (
                    statistics.median(r[m][1] for r in runs),
                    statistics.median(r[m][0] for r in runs),
                    m,
                )
                for m in modules
            ),
            reverse=True,
        )
        entries = [
            {"module": m, "cumulative_ms": cum / 1000, "self_ms": own / 1000}
            for cum, own, m in ranked
        ]
        own_code = [
            e for e in entries if e["module"].split(".")[0] in ("trailguard", "restore_trail")
        ]
        self.results["imports"] = {
            "top_cumulative": entries[:10],
            "trailguard_by_self": sorted(own_code, key=lambda e: -e["self_ms"])[:5],
            "trailguard_self_total_ms": sum(e["self_ms"] for e in own_code),
        }

    def _importtime(self, argv: list[str]) -> dict[str, tuple[int, int]]:
        completed = subprocess.run(  # noqa: S603
            argv,
            env=self.env("trailguard"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        found: dict[str, tuple[int, int]] = {}
        for line in completed.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            own, cumulative, name = (part.strip() for part in line[12:].split("|"))
            found[name] = (int(own), int(cumulative))
        return found

    # -------------------------------------------------------------- 2. repair
    def warm(
        self,
        runs: Mapping[str, tuple[str, dict[str, Any], dict[str, str]]],
        total: int | None = None,
    ) -> Any:
        """Each run's samples, taken in rounds (A B C A B C ...) so that a slow spell of the
        machine is shared by every side rather than landing on one."""
        total = total or self.samples["warm"]
        rounds = max(1, min(3, total))
        per_round = [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]
        samples: dict[str, list[Any]] = {name: [] for name in runs}
        for count in per_round:
            for name, (side, spec, extra_env) in runs.items():
                spec_ = self.spec(side, **spec) | {"samples": count}
                result = self.worker(side, spec_, self.env(side, **extra_env), f"warm-{name}")
                samples[name] += result["samples"]
        return samples

    def repair(self) -> None:
        stop = {"scenario": "repair", "event": "stop_logging"}
        runs = {
            "trailguard": ("trailguard", stop, {}),
            "trailguard_named": ("trailguard", stop, {"PROTECTED_TRAIL_NAMES": h.TRAIL_NAME}),
            "bare": ("bare", stop, {}),
            "c7n": ("c7n", stop, {}),
            "c7n_no_alert": ("c7n", stop | {"cwd": str(WORK / "c7n-run-no-alert")}, {}),
        }
        samples = self.warm(runs)
        out: dict[str, Any] = {
            name: self._warm_summary(samples[name], side) for name, (side, _, _) in runs.items()
        }
        print("  warm repairs: done", file=sys.stderr)
        with self.latency():
            out["latency"] = self._under_latency(runs)
            print("  warm repairs, latency profile: done", file=sys.stderr)
            out["cold"] = self._cold_invocations("stop_logging", h.stop_trail)
        self.results["repair"] = out

    @contextmanager
    def latency(self) -> Iterator[None]:
        h.server_latency(h.latency_profile())
        try:
            yield
        finally:
            h.server_latency(None)

    def _under_latency(
        self, runs: Mapping[str, tuple[str, dict[str, Any], dict[str, str]]]
    ) -> dict[str, Any]:
        samples = self.warm(runs, self.samples["latency"])
        return {
            name: self._warm_summary(samples[name], side) for name, (side, _, _) in runs.items()
        }

    def _warm_summary(self, samples: list[dict[str, Any]], caller: str) -> dict[str, Any]:
        resumed = [s["resumed_s"] for s in samples if s.get("resumed_s") is not None]
        return {
            "time": stats([s["s"] for s in samples]),
            "resumed": stats(resumed) if resumed else None,
            "outside_http": stats([s["s"] - s["http_s"] for s in samples]),
            "outside_api_calls": stats([s["s"] - s["api_s"] for s in samples]),
            "http": stats([s["http_s"] for s in samples]),
            "calls": same_calls(samples, caller),
            "all_ok": all(s["ok"] for s in samples),
            "outcomes": sorted({s["outcome"] for s in samples}),
            "storm_damper_reset_between_samples": any(s.get("damper_reset") for s in samples),
        }

    def _cold_invocations(self, event_name: str, prepare: Any) -> dict[str, Any]:
        """Cold incidents: a fresh interpreter per sample, every side as it ships, in turns,
        under the latency profile: init + the first invocation, and when logging resumed."""
        shipped = self.shipped_sides()
        names = ["trailguard", "bare"]
        if event_name == "stop_logging":
            names += ["c7n", "c7n_cached"]
        handler = "repair_handler" if event_name == "stop_logging" else "recreate_handler"
        template = h.load_event(event_name)
        runs: dict[str, list[Any]] = {name: [] for name in names}
        for _ in range(self.samples["cold"]):
            for name in names:
                side, spec_extra, env_extra = shipped[name]
                prepare()
                event_path = SPECS / "event.json"
                h.write_json(event_path, h.fresh_event(template))
                spec = self.spec(side, mode="invoke", event=str(event_path), handler=handler)
                spec |= spec_extra
                if side == "trailguard":
                    spec["handler"] = "handler"
                h.server_reset()
                env = self.env(side) | env_extra
                result = self.cold(side, spec, env, f"invoke-{event_name}-{name}")
                result["calls"] = h.server_counts()
                result["resumed_s"] = h.logging_resumed_after(side, result["started_at"])
                if event_name == "delete_trail":
                    result["ok"] = h.trail_exists() and h.trail_logging()
                else:
                    result["ok"] = h.trail_logging()
                runs[name].append(result)
        print(f"  cold {event_name}, as shipped, latency profile: done", file=sys.stderr)
        out: dict[str, Any] = {}
        for name, results in runs.items():
            resumed = [r["resumed_s"] for r in results if r["resumed_s"] is not None]
            out[name] = {
                "time": stats([r["total_s"] for r in results]),
                "init": stats([r["init_s"] for r in results]),
                "invoke": stats([r["invoke_s"] for r in results]),
                "resumed": stats(resumed) if resumed else None,
                "calls": same_calls(results, shipped[name][0]),
                "all_ok": all(r["ok"] for r in results),
            }
        return out

    # -------------------------------------------------------------- 3. recreate
    def recreate(self) -> None:
        delete = {"scenario": "recreate", "event": "delete_trail"}
        runs = {
            "trailguard": ("trailguard", delete, {}),
            "bare": ("bare", delete | {"handler": "recreate_handler"}, {}),
        }
        samples = self.warm(runs)
        out: dict[str, Any] = {side: self._warm_summary(samples[side], side) for side in runs}
        print("  warm recreates: done", file=sys.stderr)
        with self.latency():
            out["latency"] = self._under_latency(runs)
            print("  warm recreates, latency profile: done", file=sys.stderr)
            out["cold"] = self._cold_invocations("delete_trail", h.delete_trail)
        self.results["recreate"] = out

    # -------------------------------------------------------------- 5. scale
    def scale(self) -> None:
        """One reconciler run with N protected trails, and with many accounts in the
        organization, under the latency profile: calls and time per run."""
        ct = h.harness("cloudtrail")
        baseline = json.loads(self.function_env["BENCH_TRAIL_BASELINE"])
        names = [h.TRAIL_NAME] + [f"{h.TRAIL_NAME}-{i}" for i in range(2, 21)]
        for name in names[1:]:
            ct.create_trail(**{**baseline["create"], "Name": name})
            ct.put_event_selectors(TrailName=name, EventSelectors=baseline["event_selectors"])
            ct.start_logging(Name=name)
        out: dict[str, Any] = {}
        runs = [(n, 1) for n in (1, 5, 20)] + [(1, 50)]
        org = h.harness("organizations")
        accounts = len(org.list_accounts()["Accounts"])
        samples = max(1, min(5, self.samples["warm"]))
        with self.latency():
            for trails, wanted_accounts in runs:
                while accounts < wanted_accounts:
                    org.create_account(
                        Email=f"member{accounts}@example.com", AccountName=f"member-{accounts}"
                    )
                    accounts += 1
                spec = self.spec(
                    "trailguard",
                    "ReconcileInvariantsFunction",
                    scenario="reconcile",
                    samples=samples,
                )
                env = self.env(
                    "trailguard",
                    "ReconcileInvariantsFunction",
                    PROTECTED_TRAIL_NAMES=",".join(names[:trails]),
                )
                result = self.worker("trailguard", spec, env, f"scale-{trails}-{accounts}")
                out[f"{trails} trails, {accounts} accounts"] = {
                    "trails": trails,
                    "accounts": accounts,
                    "time": stats([r["s"] for r in result["samples"]]),
                    "calls": same_calls(result["samples"], "trailguard"),
                }
        for name in names[1:]:
            ct.delete_trail(Name=name)
        print("  scale: done", file=sys.stderr)
        self.results["scale"] = out

    # -------------------------------------------------------------- 4. storm
    def storm(self) -> None:
        n = self.samples["storm"]
        out: dict[str, Any] = {}
        # Lambda runs a burst in at most ReservedConcurrency environments per function.
        reserved = int(self.parameters.get("ReservedConcurrency") or 0) or 4
        for name, side, environments in (
            ("trailguard", "trailguard", 1),
            ("trailguard_concurrent", "trailguard", reserved),
            ("bare", "bare", 1),
            ("c7n", "c7n", 1),
        ):
            out[name] = self._storm(side, environments, n)
            print(f"  storm {name}: done", file=sys.stderr)
        out["trailguard_persistent"] = self._persistent(n)
        print("  storm trailguard_persistent: done", file=sys.stderr)
        self.results["storm"] = out

    def _alert_queue_depth(self) -> int:
        attributes = h.harness("sqs").get_queue_attributes(
            QueueUrl=self.world.alert_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def _storm(self, side: str, environments: int, n: int) -> dict[str, Any]:
        if not h.trail_logging():
            h.harness("cloudtrail").start_logging(Name=h.TRAIL_NAME)
        go = SPECS / f"go-{side}-{environments}"
        go.unlink(missing_ok=True)
        processes, outs, readies = [], [], []
        share = [
            n // environments + (1 if i < n % environments else 0) for i in range(environments)
        ]
        for index, count in enumerate(share):
            ready = SPECS / f"ready-{side}-{environments}-{index}"
            ready.unlink(missing_ok=True)
            spec = self.spec(
                side,
                scenario="storm",
                samples=count,
                event="stop_logging",
                ready=str(ready),
                go=str(go),
            )
            path, out = write_spec(f"storm-{side}-{environments}-{index}", spec)
            with _log(f"storm-{side}") as log:
                processes.append(
                    subprocess.Popen(  # noqa: S603
                        [self.python(side), "-m", "bench.worker", str(path)],
                        env=self.env(side),
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            outs.append(out)
            readies.append(ready)
        for ready in readies:
            h.wait_for(ready, timeout=120)
        queued_before = self._alert_queue_depth()
        h.stop_trail()
        h.server_reset()
        go_at = time.time()
        go.write_text("go")
        for process in processes:
            if process.wait(timeout=900) != 0:
                raise RuntimeError(f"storm worker for {side} failed: see {LOGS}/storm-{side}.log")
        results = [h.read_json(out) for out in outs]
        finished = max(r["finished_at"] for r in results)
        calls = call_summary(h.server_counts(), side)
        outcomes: dict[str, int] = {}
        for r in results:
            for outcome, count in r["outcomes"].items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        durations = [d for r in results for d in r["durations"]]
        return {
            "events": n,
            "environments": environments,
            "repairs": calls["by_operation"].get("cloudtrail:StartLogging", 0),
            "alerts_published": calls["by_operation"].get("sns:Publish", 0),
            "alerts_delivered": self._alert_queue_depth() - queued_before,
            "calls": calls,
            "calls_per_event": calls["total"] / n,
            "total_s": finished - go_at,
            "per_event": stats(durations),
            "outcomes": outcomes,
            "trail_logging_after": h.trail_logging(),
        }

    def _persistent(self, n: int) -> dict[str, Any]:
        """The attacker keeps stopping the trail: n x (StopLogging, its event)."""
        spec = self.spec(
            "trailguard",
            scenario="persist",
            samples=n,
            event="stop_logging",
            alert_queue_url=self.world.alert_queue_url,
        )
        result = self.worker("trailguard", spec, self.env("trailguard"), "storm-persist")
        calls = call_summary(result["calls"], "trailguard")
        return {
            "events": n,
            "environments": 1,
            "repairs": calls["by_operation"].get("cloudtrail:StartLogging", 0),
            "alerts_published": calls["by_operation"].get("sns:Publish", 0),
            "alerts_delivered": result["alerts_delivered"],
            "calls": calls,
            "calls_per_event": calls["total"] / n,
            "total_s": result["handler_s"],
            "wall_s": result["wall_s"],
            "per_event": stats(result["durations"]),
            "outcomes": result["outcomes"],
            "trail_logging_after": result["ok"],
        }


# ------------------------------------------------------------------ the table
def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def _calls(summary: Mapping[str, Any] | None) -> str:
    if not summary:
        return "-"
    parts = ", ".join(f"{service} {n}" for service, n in summary["by_service"].items())
    totals = summary.get("totals") or [summary["total"]]
    varies = f" [varies: {min(totals)}-{max(totals)}]" if summary.get("varies") else ""
    return f"{summary['total']} ({parts}){varies}"


def _storm_cell(s: Mapping[str, Any] | None) -> str:
    if not s:
        return "not run"
    return (
        f"{s['repairs']} repairs, {s['alerts_published']} alerts, "
        f"{s['calls_per_event']:.1f} calls/event, {s['total_s']:.1f} s"
    )


def _verdict(ok: bool, why: str = "") -> str:
    if ok:
        return "met"
    return "**MISSED**" + (f" ({why})" if why else "")


def _med(summary: Mapping[str, Any] | None, key: str = "time") -> float | None:
    part = summary.get(key) if summary else None
    return float(part["median"]) if part else None


def _slower_because(tg: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """Where trailguard's extra time went, from the samples themselves."""
    parts = []
    for key, label in (("init", "init"), ("invoke", "first invocation")):
        a, b = _med(tg, key), _med(other, key)
        if a is not None and b is not None:
            parts.append(f"{label} {1000 * (a - b):+.0f} ms")
    calls = tg["calls"]["total"] - other["calls"]["total"]
    parts.append(f"{calls:+d} calls")
    return "; ".join(parts)


def _row(
    label: str,
    tg: Mapping[str, Any] | None,
    bare: Mapping[str, Any] | None,
    c7n: Mapping[str, Any] | None,
    target: str,
    *,
    key: str = "time",
) -> list[str]:
    return [
        label,
        ms(tg.get(key) if tg else None),
        ms(bare.get(key) if bare else None),
        ms(c7n.get(key) if c7n else None) if c7n is not None else "-",
        _ratio(_med(tg, key), _med(bare, key)),
        _ratio(_med(c7n, key), _med(tg, key)) if c7n is not None else "-",
        target,
    ]


def _ahead(tg: Mapping[str, Any], c7n: Mapping[str, Any] | None, key: str = "time") -> str:
    a, c = _med(tg, key), _med(c7n, key)
    if c is None or a is None:
        return ""
    return f"ahead of Custodian: {_verdict(c > a, f'{1000 * (a - c):+.0f} ms')}"


def _within(tg: Mapping[str, Any], bare: Mapping[str, Any], limit: float, key: str) -> str:
    a, b = _med(tg, key), _med(bare, key)
    assert a is not None and b is not None
    return f"<= {limit:.2f}x minimum: {_verdict(a <= limit * b, _slower_because(tg, bare))}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p) or "information"


def build_rows(r: Mapping[str, Any]) -> list[list[str]]:
    """Rows: measure, trailguard, minimum, Custodian, trailguard / minimum,
    Custodian / trailguard, target."""
    return [*_cold_rows(r), *_stop_rows(r), *_recreate_rows(r), *_scale_rows(r), *_storm_rows(r)]


def _cold_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for function, sides in r["cold_start"].items():
        rows.append(
            _row(
                f"1 Init {function}: import of the handler module, bytecode cached",
                sides["trailguard"],
                sides["bare"],
                None,
                "information",
                key="init",
            )
        )
    shipped = r["as_shipped"]
    tg, bare, c7n = shipped["trailguard"], shipped["bare"], shipped["c7n"]
    rows.append(
        _row(
            f"1 Init {TRAIL_FUNCTION} as shipped: trailguard's precompiled layer, the "
            "minimum's source, Custodian's `.py` files (read-only, no bytecode written)",
            tg,
            bare,
            c7n,
            _ahead(tg, c7n, "init") or "information",
            key="init",
        )
    )
    rows.append(
        _row(
            "1 ... Custodian with cached bytecode",
            tg,
            bare,
            shipped["c7n_cached"],
            _ahead(tg, shipped["c7n_cached"], "init"),
            key="init",
        )
    )
    memory = int(r["memory_size_mb"])
    share = min(1.0, memory / VCPU_MB)
    rows.append(
        _row(
            "1 ... CPU time of that init, on one full core of this machine",
            shipped["trailguard"],
            bare,
            c7n,
            "information",
            key="init_cpu",
        )
    )
    cpu = _med(shipped["trailguard"], "init_cpu") or 0.0
    rows.append(
        [
            f"1 ... the same CPU time at the template's MemorySize {memory} MB "
            f"({share:.2f} of a vCPU in Lambda; estimate: CPU time / share)",
            f"{1000 * cpu / share:.0f} ms",
            f"{1000 * (_med(bare, 'init_cpu') or 0.0) / share:.0f} ms",
            f"{1000 * (_med(c7n, 'init_cpu') or 0.0) / share:.0f} ms",
            "-",
            "-",
            "information",
        ]
    )
    rows.append(
        _row(
            "1 ... trailguard's layer without bytecode (as BuildMethod: python3.13 would ship it)",
            shipped["trailguard_source"],
            bare,
            None,
            "information",
            key="init",
        )
    )
    return rows


def _stop_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    cold = r["repair"]["cold"]
    tg, bare, c7n = cold["trailguard"], cold["bare"], cold["c7n"]
    rows.append(
        _row(
            "2 Cold StopLogging incident, as shipped, latency profile: init + first "
            "invocation -> verified + alert published",
            tg,
            bare,
            c7n,
            _join(_within(tg, bare, 1.15, "time"), _ahead(tg, c7n)),
        )
    )
    rows.append(
        _row(
            "2 ... Custodian with cached bytecode",
            tg,
            bare,
            cold["c7n_cached"],
            _ahead(tg, cold["c7n_cached"]),
        )
    )
    rows.append(
        _row(
            "2 ... until logging resumed (StartLogging answered)",
            tg,
            bare,
            c7n,
            _ahead(tg, c7n, "resumed"),
            key="resumed",
        )
    )
    minimum = bare["calls"]["total"]
    rows.append(
        [
            "2 API calls, cold StopLogging incident",
            _calls(tg["calls"]),
            _calls(bare["calls"]),
            _calls(c7n["calls"]),
            f"+{tg['calls']['total'] - minimum}",
            _ratio(c7n["calls"]["total"], tg["calls"]["total"]),
            f"<= minimum + 1 = {minimum + 1}: "
            + _verdict(tg["calls"]["total"] <= minimum + 1, _calls(tg["calls"])),
        ]
    )
    lat = r["repair"]["latency"]
    for label, key in (("", "trailguard"), (", PROTECTED_TRAIL_NAMES set", "trailguard_named")):
        tg, bare, c7n = lat[key], lat["bare"], lat["c7n"]
        rows.append(
            _row(
                f"2 Warm StopLogging incident, latency profile{label}: handler entry -> "
                "verified + alert published",
                tg,
                bare,
                c7n,
                _ahead(tg, c7n),
            )
        )
        rows.append(
            _row(
                "2 ... until logging resumed",
                tg,
                bare,
                c7n,
                _ahead(tg, c7n, "resumed"),
                key="resumed",
            )
        )
        minimum = bare["calls"]["total"]
        rows.append(
            [
                f"2 API calls, warm StopLogging incident{label}",
                _calls(tg["calls"]),
                _calls(bare["calls"]),
                _calls(c7n["calls"]),
                f"+{tg['calls']['total'] - minimum}",
                _ratio(c7n["calls"]["total"], tg["calls"]["total"]),
                f"<= minimum + 1 = {minimum + 1}: "
                + _verdict(tg["calls"]["total"] <= minimum + 1, _calls(tg["calls"])),
            ]
        )
    rep = r["repair"]
    tg, bare, c7n = rep["trailguard"], rep["bare"], rep["c7n"]
    rows.append(
        _row(
            "2 Warm StopLogging incident, moto's own speed (no latency profile)",
            tg,
            bare,
            c7n,
            _ahead(tg, c7n),
        )
    )
    rows.append(
        _row(
            "2 ... Custodian without its notify action (status + set-logging only)",
            tg,
            bare,
            rep["c7n_no_alert"],
            _ahead(tg, rep["c7n_no_alert"]),
        )
    )
    rows.append(
        _row(
            "2 ... handler time outside HTTP (total - time in HTTP to moto)",
            tg,
            bare,
            c7n,
            f"< 10 ms: {_verdict((_med(tg, 'outside_http') or 1) < 0.010)}",
            key="outside_http",
        )
    )
    rows.append(
        _row(
            "2 ... of which outside botocore (total - time in API calls)",
            tg,
            bare,
            c7n,
            "information",
            key="outside_api_calls",
        )
    )
    return rows


def _recreate_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    rec = r["recreate"]
    tg, bare = rec["cold"]["trailguard"], rec["cold"]["bare"]
    rows.append(
        _row(
            "3 Cold DeleteTrail incident, as shipped, latency profile: -> recreated, "
            "verified + alert published",
            tg,
            bare,
            None,
            "information (Custodian has no action that recreates a trail)",
        )
    )
    rows.append(
        _row(
            "3 ... until logging resumed",
            tg,
            bare,
            None,
            _within(tg, bare, 0.8, "resumed"),
            key="resumed",
        )
    )
    tg, bare = rec["latency"]["trailguard"], rec["latency"]["bare"]
    rows.append(
        _row(
            "3 Warm DeleteTrail incident, latency profile: -> recreated, verified + alert",
            tg,
            bare,
            None,
            "information",
        )
    )
    rows.append(
        _row(
            "3 ... until logging resumed",
            tg,
            bare,
            None,
            _within(tg, bare, 0.8, "resumed"),
            key="resumed",
        )
    )
    rows.append(
        [
            "3 API calls per DeleteTrail incident",
            _calls(tg["calls"]),
            _calls(bare["calls"]),
            "-",
            f"+{tg['calls']['total'] - bare['calls']['total']}",
            "-",
            "information",
        ]
    )
    return rows


def _scale_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    scale = r["scale"]
    first = next(iter(scale.values()))
    for label, row in scale.items():
        if row["accounts"] > first["accounts"]:
            same = row["calls"]["total"] == first["calls"]["total"]
            target = f"calls do not grow with accounts: {_verdict(same)}"
        else:
            per_trail = row["calls"]["total"] / row["trails"]
            target = f"information ({per_trail:.1f} calls per trail)"
        rows.append(
            [
                f"4 Reconciler run, nothing drifted, latency profile: {label}",
                f"{ms(row['time'])}, {_calls(row['calls'])}",
                "-",
                "-",
                "-",
                "-",
                target,
            ]
        )
    return rows


def _storm_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    storm = r["storm"]
    n = storm["trailguard"]["events"]
    k = storm["trailguard_concurrent"]["environments"]
    for label, key, compared in (
        (f"5 Storm: {n} StopLogging events for one stop, 1 environment", "trailguard", True),
        (
            f"5 Storm: {n} events for one stop, {k} concurrent environments "
            "(template's ReservedConcurrency)",
            "trailguard_concurrent",
            False,
        ),
        (
            f"5 Storm: the attacker stops the trail {n} times, 1 event each",
            "trailguard_persistent",
            False,
        ),
    ):
        s = storm[key]
        bare_s = storm["bare"] if compared else None
        c7n_s = storm["c7n"] if compared else None
        rows.append(
            [
                label,
                _storm_cell(s),
                _storm_cell(bare_s),
                _storm_cell(c7n_s),
                _ratio(s["total_s"], bare_s["total_s"]) if bare_s else "-",
                _ratio(c7n_s["total_s"], s["total_s"]) if c7n_s else "-",
                "<= 1 alert per 100 events: "
                + _verdict(s["alerts_published"] <= max(1, s["events"] // 100))
                + (
                    f"; ahead of Custodian: {_verdict(c7n_s['total_s'] > s['total_s'])}"
                    if c7n_s
                    else ""
                ),
            ]
        )
    return rows


HEADER = [
    "Measure",
    "trailguard",
    "Minimum (bare botocore)",
    "Cloud Custodian",
    "trailguard / minimum",
    "Custodian / trailguard",
    "Target",
]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def imports_text(imports: Mapping[str, Any]) -> str:
    lines = [
        f"Heaviest imports of {TRAIL_FUNCTION}'s init "
        "(python -X importtime, median of 3, top 10 cumulative):"
    ]
    lines += [
        f"  {i['cumulative_ms']:8.1f} ms  (self {i['self_ms']:6.1f} ms)  {i['module']}"
        for i in imports["top_cumulative"]
    ]
    lines.append(
        f"trailguard's own modules: {imports['trailguard_self_total_ms']:.1f} ms of self time; "
        "the largest:"
    )
    lines += [f"  {i['self_ms']:8.1f} ms  {i['module']}" for i in imports["trailguard_by_self"]]
    return "\n".join(lines)


def readme_text(results: Mapping[str, Any], table: str) -> str:
    m, samples = results["machine"], results["samples"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    profile = h.read_json(h.LATENCY_PROFILE)
    delays = ", ".join(
        [f"{profile['default_ms']} ms per call by default"]
        + [f"{k} {v['ms']} ms" for k, v in profile["operations"].items()]
    )
    return (
        f"Measured on {m['date']} at commit {m['commit']}, on {m['nproc']} cores "
        f"({m['cpu']}), Python {m['python']}; {versions}. Samples per side: "
        f"{samples['cold']} cold, {samples['warm']} warm, {samples['latency']} warm under "
        f"the latency profile ({delays}), storms of {samples['storm']} events. Each cell: "
        f"median (min-max). The run took {results['seconds'] / 60:.1f} minutes.\n\n"
        f"{table}\n\n```\n{imports_text(results['imports'])}\n```\n"
    )


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for label, python, package in (
        ("boto3", PYTHON, "boto3"),
        ("aws-lambda-powertools", PYTHON, "aws-lambda-powertools"),
        ("moto (server)", str(SERVER_PYTHON), "moto"),
        ("c7n", str(C7N_PYTHON), "c7n"),
        ("boto3 (c7n venv)", str(C7N_PYTHON), "boto3"),
    ):
        completed = subprocess.run(  # noqa: S603
            [python, "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
            capture_output=True,
            text=True,
            check=False,
        )
        versions[label] = completed.stdout.strip() or "?"
    git = {}
    for key, argv in (
        ("commit", ["git", "rev-parse", "--short", "HEAD"]),
        ("dirty", ["git", "status", "--porcelain", "--", "layers", "functions", "template.yaml"]),
    ):
        completed = subprocess.run(  # noqa: S603
            argv, cwd=ROOT, capture_output=True, text=True, check=False
        )
        git[key] = completed.stdout.strip()
    return {
        "commit": git["commit"] + (" + uncommitted changes" if git["dirty"] else ""),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "cpu": cpu,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", type=int, default=15, help="cold-start samples per side")
    parser.add_argument("--warm", type=int, default=30, help="warm samples per side")
    parser.add_argument(
        "--latency", type=int, default=12, help="warm samples per side, latency profile on"
    )
    parser.add_argument("--storm", type=int, default=1000, help="events in a storm")
    parser.add_argument("--quick", action="store_true", help="3 cold, 5 warm, 100 storm")
    args = parser.parse_args(argv)
    samples = {
        "cold": args.cold,
        "warm": args.warm,
        "latency": args.latency,
        "storm": args.storm,
    }
    if args.quick:
        samples = {"cold": 3, "warm": 5, "latency": 3, "storm": 100}
    for python in (SERVER_PYTHON, C7N_PYTHON):
        if not python.exists():
            print(f"{python} is missing: run `make bench`", file=sys.stderr)
            return 2
    shutil.rmtree(SPECS, ignore_errors=True)
    shutil.rmtree(LOGS, ignore_errors=True)
    started = time.time()
    with moto_server() as endpoint:
        bench = Bench(endpoint, samples)
        print(f"moto server at {endpoint}; seeding", file=sys.stderr)
        bench.seed()
        phases = (
            bench.cold_start,
            bench.imports,
            bench.repair,
            bench.recreate,
            bench.scale,
            bench.storm,
        )
        for phase in phases:
            print(f"{phase.__name__} ...", file=sys.stderr)
            phase()
    results = {
        "machine": machine(),
        "samples": samples,
        "seconds": time.time() - started,
        **bench.results,
    }
    rows = build_rows(results)
    table = markdown(rows)
    results["table"] = table
    stem = "results-quick" if args.quick else "results"
    h.write_json(WORK / f"{stem}.json", results)
    text = (
        f"trailguard performance, side by side ({results['machine']['date']}, "
        f"{results['machine']['nproc']} cores, {results['machine']['cpu']}, "
        f"Python {results['machine']['python']}, trailguard {results['machine']['commit']}); "
        "median (min-max) of "
        f"{samples['cold']} cold / {samples['warm']} warm samples per side\n\n"
        f"{table}\n\n{imports_text(results['imports'])}\n"
    )
    (WORK / f"{stem}.md").write_text(text)
    print(text)
    if not args.quick:
        from scripts.readme_sections import replace_section  # noqa: PLC0415

        replace_section("performance", readme_text(results, table))
    print(f"({results['seconds']:.0f} s; bench/work/{stem}.json, bench/work/{stem}.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
