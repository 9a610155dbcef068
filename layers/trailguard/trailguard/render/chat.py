"""The alert as an Amazon Q Developer in chat applications custom notification.

Amazon Q Developer in chat applications (formerly AWS Chatbot) delivers an SNS message
to Slack or Microsoft Teams only when its body follows the custom-notification schema
(Administrator Guide, "Custom notifications"): `version` "1.0", `source` "custom",
`content` with at least a `description`, and optional `metadata`. Anything else is
dropped, which is why the chat topic gets this body and not the alert document.

Chat markup is live: Slack turns `<!channel>` into a ping of everyone, Teams and Slack
format `*`, `_`, `` ` `` and links. Attacker-controlled values (principal, user agent,
source address, resource names, AWS error text) are therefore only shown inside inline
code, where neither platform formats anything. The characters that could end the span
or start a mention are replaced by look-alikes (U+2039, U+203A, U+FF20, U+FF06, U+02CB)
and a URL is defanged ('[://]'). The exact values are in the SNS alert document, the
EventBridge event and the Security Hub finding.
"""

from __future__ import annotations

from typing import Any

from trailguard.domain.alerts import Alert, Severity
from trailguard.render import content

VERSION = "1.0"
SOURCE = "custom"
TEXT_TYPE = "client-markdown"
# Slack truncates a section's text at 3,000 characters; stay inside it.
DESCRIPTION_LIMIT = 2900
_VALUE_LIMIT = 300

_EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.HIGH: ":rotating_light:",
    Severity.CRITICAL: ":sos:",
}

# Mentions in Slack (`<!here>`, `<@U123>`, `<http://x|y>`) need '<' and '>', and '&'
# starts an entity that Slack decodes back into them. Teams mentions are `<at>...</at>`.
# A bare '@here' does not ping through the API, but it is neutralised all the same.
_NO_MENTION = str.maketrans({"<": "\u2039", ">": "\u203a", "@": "\uff20", "&": "\uff06"})
# Inside inline code only a backtick (which would end the span) matters besides those.
_IN_CODE = str.maketrans(
    {"<": "\u2039", ">": "\u203a", "@": "\uff20", "&": "\uff06", "`": "\u02cb"}
)
# Fields that the chat client may render as markdown without a code span around them.
_PLAIN = str.maketrans(
    {
        "<": "\u2039",
        ">": "\u203a",
        "@": "\uff20",
        "&": "\uff06",
        "`": "\u02cb",
        "*": "\u2217",
        "_": "\u02cd",
        "~": "\u223c",
        "|": "\u2223",
        "[": "\u27e6",
        "]": "\u27e7",
        "#": "\uff03",
    }
)


def literal(value: str) -> str:
    """An attacker-controlled value as inline code that cannot format, link or ping."""
    # Clients may still turn a URL into a link inside code: defang it.
    text = value[:_VALUE_LIMIT].translate(_IN_CODE).replace("://", "[://]").strip()
    return f"`{text}`" if text else "`-`"


def plain(value: str) -> str:
    """A value for a field shown as text (summary, related resources, context)."""
    return value[:_VALUE_LIMIT].translate(_PLAIN)


def own_words(value: str) -> str:
    """trailguard's own text (headline, hints): markup allowed, mentions never."""
    return value.translate(_NO_MENTION)


def _invariant_code(alert: Alert) -> str:
    head = alert.invariant.split(" ", 1)[0]
    return head if head[:1] == "I" and head[1:].isdigit() else "trailguard"


def _description(alert: Alert) -> str:
    event = alert.event
    lines: list[str] = []
    if event is not None:
        call = f"{literal(event.event_source)} {literal(event.event_name)}"
        if event.error_code:
            call += f" (failed: {literal(event.error_code)})"
        lines += [
            f"What: {call} at {event.event_time.isoformat()}",
            f"Who: {literal(event.principal.describe())}",
            f"From: {literal(event.source_ip)}, user agent {literal(event.user_agent)}",
        ]
    else:
        lines.append(f"What: drift found by the {literal(alert.detected_by)} check")
    lines.append(f"Resource: {literal(alert.resource)} ({own_words(alert.invariant)})")
    where = f"Where: account {literal(content.account_label(alert))}, region {alert.region}"
    if alert.context.stack_name:
        where += f", stack {literal(alert.context.stack_name)}"
    lines.append(where)
    if alert.drift:
        shown = ", ".join(literal(item) for item in alert.drift[:5])
        more = f" and {len(alert.drift) - 5} more" if len(alert.drift) > 5 else ""
        lines.append(f"Drift: {shown}{more}")
    if alert.actions:
        done = "; ".join(
            f"{literal(a.call)} {literal(a.target)}: {literal(a.result)}" for a in alert.actions[:8]
        )
        lines.append(f"What trailguard did: {done}")
    if alert.verification:
        lines.append(f"Verification: {literal(alert.verification)}")
    if alert.seconds_to_repair is not None:
        lines.append(f"Event to repair: {alert.seconds_to_repair:.1f} s")
    technique = content.technique(alert)
    lines.append(f"Technique: {technique.id} {technique.name} ({technique.url})")
    for name, url in content.links(alert).items():
        lines.append(f"{name}: {url}")
    text = "\n".join(lines)
    if len(text) > DESCRIPTION_LIMIT:
        text = text[: DESCRIPTION_LIMIT - 20].rsplit("\n", 1)[0] + "\n(truncated)"
    return text


def chat_message(alert: Alert) -> dict[str, Any]:
    """The custom notification for the chat topic (publish its JSON as the message)."""
    event = alert.event
    key = content.dedup_key(alert)
    title = (
        f"{_EMOJI[alert.severity]} trailguard {alert.severity.value}: "
        f"{own_words(alert.headline)} "
        f"({_invariant_code(alert)} {plain(content.short_resource(alert))})"
    )
    summary = f"trailguard {alert.severity.value} {alert.outcome.value}: " + plain(
        f"{event.event_name if event else alert.detected_by} on {content.short_resource(alert)}"
    )
    context = {
        "dedupKey": key,
        "severity": alert.severity.value,
        "outcome": alert.outcome.value,
        "account": alert.account_id,
        "region": alert.region,
        "technique": content.technique(alert).id,
    }
    if event is not None:
        context["eventId"] = event.event_id
    if alert.context.stack_name:
        context["stack"] = plain(alert.context.stack_name)
    related = [plain(alert.resource)]
    if event is not None and event.principal.arn:
        related.append(plain(event.principal.arn))
    message: dict[str, Any] = {
        "version": VERSION,
        "source": SOURCE,
        "content": {
            "textType": TEXT_TYPE,
            "title": title,
            "description": _description(alert),
            "nextSteps": [own_words(step) for step in content.next_steps(alert)],
            "keywords": [
                alert.severity.value,
                alert.outcome.value,
                _invariant_code(alert),
                content.technique(alert).id,
            ],
        },
        "metadata": {
            # One thread per resource and invariant: repeats and repairs thread together.
            "threadId": key,
            "summary": summary,
            "eventType": "trailguard-" + alert.outcome.value.replace("_", "-"),
            "relatedResources": related,
            "additionalContext": context,
        },
    }
    if event is not None:
        message["id"] = event.event_id
    return message
