"""The drill as a person reads it: one block per attack, then a summary.

Colour only on a terminal and only without NO_COLOR (https://no-color.org).
Every value taken from an event is shown escaped: an event file can carry
terminal escape sequences in a user agent or a trail name.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from drill.invariants import Check
from drill.report import summary
from drill.routing import SCHEDULE, Delivery, Invocation
from drill.runner import EXIT_INVARIANT_BROKEN, EXIT_OK, DrillReport, Play
from drill.scenarios import BY_SCHEDULE
from drill.world import DeliveredAlert

LABEL_WIDTH = 12
TEXT_WIDTH = 100 - 2 - LABEL_WIDTH
_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def _seconds_since(start: str, alerts: list[DeliveredAlert]) -> float | None:
    """From the attack to the last repair its alerts report (alerts without an event
    carry no secondsToRepair: the schedule's)."""
    repaired = [a.document.get("repairedAt") for a in alerts]
    times = [datetime.fromisoformat(t) for t in repaired if isinstance(t, str)]
    if not start or not times:
        return None
    return (max(times) - datetime.fromisoformat(start)).total_seconds()


def colour_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    return stream.isatty() and not environ.get("NO_COLOR")


def safe(value: object) -> str:
    """Printable text: control characters become visible escapes."""
    text = str(value)
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def verdict(self, good: bool, text: str) -> str:
        return self(text, "green") if good else self(text, "red", "bold")


class Renderer:
    def __init__(self, out: TextIO, colour: bool, total: int = 0, email: bool = False) -> None:
        self.out = out
        self.style = Style(colour)
        self.total = total
        self.email = email  # also print each alert's e-mail text
        self._played = 0

    # ------------------------------------------------------------ output helpers
    def _line(self, label: str, text: str = "") -> None:
        shown = self.style(label.ljust(LABEL_WIDTH), "dim") if label else " " * LABEL_WIDTH
        self.out.write(f"  {shown}{text}\n")

    def _more(self, text: str) -> None:
        self._line("", text)

    def _wrapped(self, label: str, text: str, *styles: str) -> None:
        # ARNs and event ids stay whole: a reader copies them.
        lines = textwrap.wrap(text, TEXT_WIDTH, break_long_words=False, break_on_hyphens=False)
        for line in lines or [""]:
            self._line(label, self.style(line, *styles))
            label = ""

    def _header(self, text: str) -> None:
        rule = "=" * max(4, 78 - len(text))
        self.out.write("\n" + self.style(f"== {text} {rule}", "bold", "cyan") + "\n")

    # ------------------------------------------------------------ one play
    def play(self, play: Play) -> None:
        self._played += 1
        counter = f"[{self._played}/{self.total}] " if self.total > 1 else ""
        self._header(f"{counter}{play.name}")
        self._line("what", self.style(safe(play.title), "bold"))
        if play.note:
            self._wrapped("", safe(play.note), "dim")
        self._attacks(play)
        if play.detected_by == BY_SCHEDULE and not play.attack_error:
            self._line(
                "event",
                self.style("none delivered: the attack's CloudTrail events are lost", "yellow"),
            )
        if play.deliveries:
            first = play.deliveries[0]
            if first.schedule:
                self._scheduled(first)
            else:
                self._event(first.event)
        for number, delivery in enumerate(play.deliveries, start=1):
            self._delivery(delivery, number if len(play.deliveries) > 1 else 0)
        self._states(play.states)
        for alert in play.alerts:
            self._alert(alert)
        if not play.alerts and play.deliveries:
            self._line("alert", self.style("none delivered", "dim"))
        self._witnessed(play)
        self._timing(play)
        self._result(play)

    def _witnessed(self, play: Play) -> None:
        """What the witness in the audit account passed on to its own topic."""
        label = "witness"
        for delivery in play.deliveries:
            for seen in delivery.witnessed:
                if seen.outcome != "alerted":
                    continue
                self._wrapped(
                    label, f"{safe(seen.subject)} ({safe(seen.label)}, rule {seen.rule_id})"
                )
                label = ""

    def _attacks(self, play: Play) -> None:
        if len(play.attacks) == 1:
            self._wrapped("attack", f"at {play.attacked_at}  {safe(play.attacks[0])}")
        elif play.attacks:
            self._line("attack", f"at {play.attacked_at}, one call after another:")
            for number, call in enumerate(play.attacks, start=1):
                self._wrapped("", f"{number}. {safe(call)}")
        elif not play.replayed:
            self._line("attack", "none made: AWS refused the call, only its event arrives")
        if play.attack_error:
            self._more(self.style(f"attack failed: {safe(play.attack_error)}", "red"))

    def _scheduled(self, delivery: Delivery) -> None:
        event = delivery.event
        self._line(
            "schedule",
            self.style(safe(event.get("detail-type", "?")), "bold")
            + f" from {safe(event.get('source', '?'))}, {safe(delivery.schedule)}",
        )
        self._more(self.style("fired at once here; in AWS it fires within one interval", "dim"))
        for resource in event.get("resources") or []:
            self._more(f"rule  {safe(resource)}")
        self._more(f"id    {safe(event.get('id', '?'))}  time {safe(event.get('time', '?'))}")

    def _event(self, event: dict[str, Any]) -> None:
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else None
        if detail is None:
            self._line("event", self.style("has no detail object", "yellow"))
            return
        identity = detail.get("userIdentity")
        identity = identity if isinstance(identity, dict) else {}
        failed = detail.get("errorCode")
        name = safe(detail.get("eventName", "?"))
        self._line(
            "event",
            self.style(name, "bold")
            + f" from {safe(event.get('source', '?'))}"
            + (self.style(f"  errorCode {safe(failed)}", "yellow") if failed else ""),
        )
        self._more(f"who   {safe(identity.get('type', '?'))} {safe(identity.get('arn', '?'))}")
        self._more(
            f"agent {safe(repr(str(detail.get('userAgent', ''))))}"
            f"  from {safe(detail.get('sourceIPAddress', '?'))}"
        )
        self._more(
            f"id    {safe(detail.get('eventID', '?'))}  time {safe(detail.get('eventTime', '?'))}"
        )

    def _delivery(self, delivery: Delivery, number: int) -> None:
        label = f"delivery {number}" if number else "routed"
        if not delivery.invocations:
            self._line(
                label, self.style("no rule of the template matches: not delivered", "yellow")
            )
            self._unmatched(delivery)
            return
        for invocation in delivery.invocations:
            self._invocation(label, invocation)
            label = ""

    def _unmatched(self, delivery: Delivery, shown: int = 3) -> None:
        """Which fields kept the event from the rules it came nearest to."""
        for miss in delivery.unmatched[:shown]:
            self._wrapped("", f"rule {miss.rule_id} -> {miss.function_id} did not match:")
            for reason in miss.reasons:
                self._wrapped("", f"  - {safe(reason)}", "yellow")
        if len(delivery.unmatched) > shown:
            more = len(delivery.unmatched) - shown
            self._more(self.style(f"(and {more} more rules, as near, for the same fields)", "dim"))

    def _invocation(self, label: str, invocation: Invocation) -> None:
        outcome = invocation.outcome
        shown = (
            self.style(outcome, "red", "bold") if invocation.error else self.style(outcome, "bold")
        )
        self._line(
            label,
            f"{invocation.trigger} {invocation.rule_id} -> {invocation.function_id}: {shown}",
        )
        if invocation.error:
            self._wrapped("", safe(invocation.error), "red")
        elif invocation.summary and isinstance(invocation.summary.get("checked"), list):
            # The reconciler: what it checked, and how many invariants it repaired.
            checked = ", ".join(safe(c) for c in invocation.summary["checked"])
            repaired = safe(invocation.summary.get("repaired", "?"))
            self._wrapped("", f"checked {checked}: repaired {repaired}")
        elif invocation.summary and invocation.summary.get("reason") not in (None, "", outcome):
            self._more(f"reason: {safe(invocation.summary['reason'])}")
        elif invocation.summary and invocation.summary.get("state"):
            # A repeat delivery: the delivery ledger's record of the first one.
            self._more(f"already handled (ledger: {safe(invocation.summary['state'])})")
        calls = invocation.actions
        if invocation.error:
            # A raising handler returns no summary; its CRITICAL alert lists the calls.
            self._more(self.style("calls: see the alert", "dim"))
        else:
            self._more("calls: " + (safe(calls[0]) if calls else self.style("none", "dim")))
        for call in calls[1:]:
            self._more(f"       {safe(call)}")
        if invocation.printed.metrics:
            self._more(self.style("metrics: " + ", ".join(invocation.printed.metrics), "dim"))

    def _states(self, states: tuple[tuple[str, tuple[Check, ...]], ...]) -> None:
        """A table: one row per invariant watched, one column per moment."""
        if not states:
            return
        label_width = max(len(c.label) for _, checks in states for c in checks) + 2
        widths = [
            max(len(moment), *(len(c.state) for c in checks)) + 2 for moment, checks in states
        ]
        header = "".join(moment.ljust(w) for (moment, _), w in zip(states, widths, strict=True))
        self._line("state", self.style((" " * label_width + header).rstrip(), "dim"))
        for row, first in enumerate(states[0][1]):
            cells = "".join(
                self._cell(checks[row], w) for (_, checks), w in zip(states, widths, strict=True)
            )
            self._more(first.label.ljust(label_width) + cells.rstrip())
        for moment, checks in states:
            for check in checks:
                if check.detail:
                    self._wrapped("", f"{moment}: {check.detail}", "dim")

    def _cell(self, check: Check, width: int) -> str:
        # Pad outside the colour codes, or the columns stop lining up on a terminal.
        if check.invariant or check.holds:
            shown = self.style.verdict(check.holds, check.state)
        else:
            shown = self.style(check.state, "yellow")  # not an invariant: not a failure
        return shown + " " * (width - len(check.state))

    def _alert(self, alert: DeliveredAlert) -> None:
        doc = alert.document
        severity_style = {
            "CRITICAL": ("red", "bold"),
            "HIGH": ("yellow", "bold"),
            "WARNING": ("yellow",),
        }.get(alert.severity, ())
        self._line("alert", self.style(safe(alert.subject), *severity_style))
        found_by = doc.get("detectedBy") or "event"
        self._more(
            f"{alert.severity} | {alert.outcome} | {safe(doc.get('invariant', ''))}"
            + ("" if found_by == "event" else f" | detected by {safe(found_by)}")
        )
        actor = doc.get("actor") or {}
        if actor:
            self._more(f"who:   {safe(actor.get('type', '?'))} {safe(actor.get('arn', '?'))}")
        for drift in doc.get("drift", []):
            self._more(f"drift: {safe(drift)}")
        for action in doc.get("actions", []):
            self._more(
                f"did:   {safe(action.get('call'))} {safe(action.get('target'))}: "
                f"{safe(action.get('result'))}"
            )
        if doc.get("verification"):
            self._wrapped("", f"verified: {safe(doc['verification'])}")
        if doc.get("manualAction"):
            self._wrapped("", f"manual action: {safe(doc['manualAction'])}", "yellow")
        if doc.get("detail"):
            # The storm note ("occurrence N ... within 15 minutes") and other detail.
            self._wrapped("", f"note: {safe(doc['detail'])}")
        if self.email:
            self._email(alert)

    def _email(self, alert: DeliveredAlert) -> None:
        from drill.mailbox import email_text

        found = email_text(alert)
        if found is None:
            self._line("e-mail", self.style("not found among the messages published", "yellow"))
            return
        subject, body = found
        self._line("e-mail", f"Subject: {safe(subject)}")
        for line in body.splitlines():
            if line:
                self._more(self.style(safe(line), "dim"))
            else:
                self.out.write("\n")

    def _timing(self, play: Play) -> None:
        label = "time"
        for alert in play.alerts:
            seconds = alert.document.get("secondsToRepair")
            if isinstance(seconds, (int, float)):
                self._line(
                    label,
                    self.style(f"event to verified repair {seconds:.3f} s", "bold")
                    + " (the alert's secondsToRepair)",
                )
                label = ""
        since_attack = _seconds_since(play.attacked_at, play.alerts)
        if play.detected_by == BY_SCHEDULE and since_attack is not None:
            self._line(
                label,
                self.style(f"attack to verified repair {since_attack:.3f} s", "bold")
                + " (in AWS add the wait for the schedule)",
            )
            label = ""
        for number, delivery in enumerate(play.deliveries, start=1):
            which = f"delivery {number}: " if len(play.deliveries) > 1 else ""
            for invocation in delivery.invocations:
                cold = ", first call: includes import" if invocation.cold_start else ""
                which = which or ("schedule: " if invocation.trigger == SCHEDULE else "")
                self._line(
                    label,
                    f"{which}{invocation.function_id} ran "
                    f"{invocation.handler_seconds * 1000:.0f} ms (wall clock{cold})",
                )
                label = ""

    def _result(self, play: Play) -> None:
        if play.problems:
            self._line("result", self.style("NOT AS EXPECTED", "red", "bold"))
            for problem in play.problems:
                self._more(self.style(f"- {safe(problem)}", "red"))
        elif play.failures:
            self._line("result", self.style("handler failed", "red", "bold"))
        elif play.replayed:
            outcomes = ", ".join(i.outcome for i in play.invocations) or "nothing delivered"
            self._line("result", outcomes)
        else:
            self._line("result", self.style("as expected", "green", "bold"))

    # ------------------------------------------------------------ the end
    def summary(self, report: DrillReport) -> None:
        counts = summary(report)
        self._header("summary")
        noun = ("attack" if report.kind == "scenarios" else "replayed event") + (
            "" if counts["played"] == 1 else "s"
        )
        self._line(
            "played",
            f"{counts['played']} {noun} in {report.seconds:.1f} s "
            f"(world set up in {report.setup_seconds:.1f} s)",
        )
        by_schedule = counts["repairedBySchedule"]
        self._line(
            "repaired",
            str(counts["repaired"])
            + (f" ({by_schedule} by the schedule: events lost)" if by_schedule else ""),
        )
        if counts["alertOnly"]:
            self._line(
                "alert only", f"{counts['alertOnly']} (trailguard alerts and changes nothing)"
            )
        self._line("alerts", f"{counts['alertsDelivered']} delivered")
        self._line(
            "failures",
            self.style.verdict(counts["failures"] == 0, f"{counts['failures']} handler(s) raised"),
        )
        self._line(
            "unexpected", self.style.verdict(counts["unexpected"] == 0, f"{counts['unexpected']}")
        )
        width = max(len(c.label) for c in (*report.final, *report.observed)) + 2
        label = "invariants"
        for check in report.final:
            self._line(
                label, check.label.ljust(width) + self.style.verdict(check.holds, check.state)
            )
            label = ""
        label = "observed"  # watched by a play, not an invariant: never a failure
        for check in report.observed:
            if check.holds:
                shown = self.style.verdict(True, check.state)
            else:
                shown = self.style(check.state, "yellow") + " (not an invariant: redeploy)"
            self._line(label, check.label.ljust(width) + shown)
            label = ""
        code = report.exit_code
        if code == EXIT_OK:
            verdict = self.style("OK: every invariant holds", "green", "bold")
        elif code == EXIT_INVARIANT_BROKEN:
            verdict = self.style("FAILED: an invariant is left broken", "red", "bold")
        else:
            verdict = self.style("FAILED: trailguard did not do what was expected", "red", "bold")
        self._line("verdict", f"{verdict} (exit {code})")
