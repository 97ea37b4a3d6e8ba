"""Block Kit payloads: pure functions from verdicts to `chat.postMessage` payloads.

Every payload has a plain `text` fallback and stays within Slack's limits (50 blocks a message, 3,000
characters a section, 150 a header): a long report is split across messages at line boundaries, never
cut inside a number. Every name that comes from the sheet goes through `escape`, so a campaign called
`<!channel>` is shown, not obeyed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from analysis.models import Comparison, Problem, Report, TabReading, TestResult
from analysis.verdict_words import interval_words, when
from analysis.wording import percent, signed_percent
from bot.decided import Standing
from bot.render.actions import action_block, decided_block, signature
from bot.render.problems import beside_tabs, changes_verdicts, kind_line, problem_kinds
from bot.render.problems import heading as problem_heading
from bot.render.untested import unread, untested_sentences
from bot.sentences import START_DIGESTS, counted
from bot.sources import google_key

Block = dict[str, Any]
Payload = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
# Not a Slack limit: past this many characters Slack folds a message behind "See more"; split instead.
MAX_MESSAGE_CHARS = 12_000
# Up to this many problems are listed whole in a status message; past it, a count per kind and their first cells.
LISTED_WITH_SUMMARY = 3

COMMAND = "/microopt"
HEADING = "Test verdicts"
NOTHING_TESTED = "Nothing was tested"

VERDICT_EMOJI = {
    "move_budget": ":large_green_circle:",
    "keep_running": ":hourglass_flowing_sand:",
    "no_difference": ":white_circle:",
    "conflict": ":warning:",
    "check_tracking": ":rotating_light:",
}

# What a cut text must not end with: "Black Friday ·…" is "Black Friday…".
SEPARATORS = " ·:,;—-"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")


# -- text ----------------------------------------------------------------------------------------
def escape(text: object) -> str:
    """Make sheet text inert in mrkdwn: `&`, `<` and `>` become entities (no pings, no fake links)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` to at most `limit` characters: the last space, else not inside an entity."""
    space = text.rfind(" ", 0, limit + 1)
    if space > 0:
        return space
    tail = _ENTITY_TAIL.search(text[:limit])
    return tail.start() if tail and tail.start() > 0 else limit


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split at line breaks into chunks of at most `limit` characters.

    A line longer than `limit` is split at its last space before the limit (numbers never contain
    spaces, so no number is cut), and only a spaceless run is cut hard, never inside an `&…;` entity.
    """
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces: list[str] = []
        while len(line) > limit:
            cut = _cut_point(line, limit)
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        pieces.append(line)
        for piece in pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    chunks.append(current)
                current = piece
    if current or not chunks:
        chunks.append(current)
    return chunks


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a space, never leaving a separator dangling before the "…"."""
    return text if len(text) <= limit else text[: _cut_point(text, limit - 1)].rstrip().rstrip(SEPARATORS) + "…"


# -- blocks --------------------------------------------------------------------------------------
def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, MAX_HEADER_TEXT), "emoji": True}}


def sections(mrkdwn: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in split_text(mrkdwn)]


def context(*parts: str) -> Block:
    text = " · ".join(part for part in parts if part)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT)}]}


def _block_chars(block: Block) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    texts = (element.get("text", "") for element in block.get("elements", ()))
    return sum(len(text if isinstance(text, str) else text.get("text", "")) for text in texts)


@dataclass
class Unit:
    """Blocks that belong together (one test) and the line that stands for them in the fallback text."""

    blocks: list[Block]
    summary: str
    charts: list[TestResult] = field(default_factory=list)


@dataclass
class Message:
    blocks: list[Block] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(_block_chars(block) for block in self.blocks)


def _fallback(heading: str, summaries: Sequence[str]) -> str:
    lines = [heading, *summaries]
    text = "\n".join(lines)
    if len(text) <= MAX_FALLBACK_TEXT:
        return text
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > MAX_FALLBACK_TEXT - 40:
            break
        kept.append(line)
    return "\n".join([*kept, f"…and {len(lines) - len(kept)} more in the message."])


def pack(units: Iterable[Unit], heading: str, footer: Block | None = None) -> list[Message]:
    """Fill messages with whole units while they fit; split a unit only when it alone is too big."""
    room = MAX_BLOCKS - 1 - (1 if footer else 0)
    chars_room = MAX_MESSAGE_CHARS - len(heading) - (_block_chars(footer) if footer else 0)
    messages: list[Message] = [Message()]
    for unit in units:
        current = messages[-1]
        size = sum(_block_chars(block) for block in unit.blocks)
        fits = len(current.blocks) + len(unit.blocks) <= room and current.chars + size <= chars_room
        if not fits and current.blocks:
            current = Message()
            messages.append(current)
        for block in unit.blocks:
            if current.blocks and (len(current.blocks) + 1 > room or current.chars + _block_chars(block) > chars_room):
                current = Message()
                messages.append(current)
            current.blocks.append(block)
        current.summaries.append(unit.summary)
        current.tests.extend(unit.charts)
    return messages


def to_payloads(messages: Sequence[Message], heading: str, footer: Block | None = None) -> list[Payload]:
    payloads: list[Payload] = []
    for number, message in enumerate(messages, start=1):
        title = heading if len(messages) == 1 else f"{heading} ({number}/{len(messages)})"
        blocks = [header(title), *message.blocks, *([footer] if footer else [])]
        payloads.append({"text": _fallback(escape(title), message.summaries), "blocks": blocks})
    return payloads


# -- pieces of a report --------------------------------------------------------------------------
def _p_value(comparison: Comparison) -> str:
    """Once called, the decision's own p-value (always valid, adjusted for several variants); while open, how
    far the evidence is toward a call."""
    if comparison.call is None:
        evidence = comparison.evidence
        return f"{min(evidence, 0.99) * 100:.0f}% toward a call" if evidence is not None else "too early"
    p = comparison.adjusted_p_value if comparison.adjusted_p_value is not None else 1.0
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _range(comparison: Comparison) -> str:
    if comparison.lift is None:
        return "lift n/a (no control conversions)"
    return f"lift {signed_percent(comparison.lift)}{interval_words(*comparison.decision_ci, comparison.metric)}"


def comparison_line(test: TestResult, comparison: Comparison) -> str:
    c = comparison
    rates = (
        f"{percent(c.variant_rate)} vs {percent(c.control_rate)} "
        f"({c.variant_conversions:,}/{c.variant_visitors:,} vs {c.control_conversions:,}/{c.control_visitors:,})"
    )
    called = f" · *called {c.call.replace('_', ' ')}*" if c.call is not None else ""
    if c.fractional:
        called = f" · _fractional conversions (attribution)_{called}"
    if c.call is not None and c.called_on is not None:
        called += f" on {when(c.called_on)}"
    return (
        f"• *{escape(c.variant)}* vs {escape(test.control)}, {escape(c.metric)} ({c.kind}): "
        f"{rates} · {_range(c)} · {_p_value(c)}{called}"
    )


def test_text(test: TestResult) -> str:
    emoji = VERDICT_EMOJI.get(test.verdict, ":small_blue_diamond:")
    lines = [
        f"*{escape(test.title)}* — {emoji} *{escape(test.headline)}*",
        escape(test.summary),
    ]
    if test.comparisons:
        lines.append("")
        lines.extend(comparison_line(test, comparison) for comparison in test.comparisons)
    return "\n".join(lines)


def resting_text(tests: Sequence[TestResult]) -> str:
    """Paused and done tests, last and briefly: one line each."""
    lines = ["*Paused or done* (not in digests):"]
    lines.extend(f"• {escape(t.title)} ({t.status}): {escape(t.headline)}" for t in tests)
    return "\n".join(lines)


def test_unit(test: TestResult, standing: Standing | None = None) -> Unit:
    """One test's verdict and numbers, then its buttons, or what the team did about it (`bot.render.actions`)."""
    blocks = sections(test_text(test))
    decision = standing.speaking(test.campaign, test.test, signature(test), test.status) if standing else None
    if decision is not None and standing is not None:
        blocks.append(decided_block(decision, standing.now, sheet_pending=decision.sheet_error is not None))
    elif (buttons := action_block(test)) is not None:
        blocks.append(buttons)
    return Unit(blocks=blocks, summary=f"{escape(test.title)}: {escape(test.headline)}", charts=[test])


def problems_text(problems: Sequence[Problem], listed: bool = False) -> str:
    """A count per kind with its first cells, then every problem when `listed` (a few are always listed)."""
    lines = [f"*{escape(problem_heading(problems))}*:"]
    whole = listed or len(problems) <= LISTED_WITH_SUMMARY
    if len(problems) > LISTED_WITH_SUMMARY:
        lines.extend(f"• {escape(kind_line(kind, quote='`'))}" for kind in problem_kinds(problems))
        if whole:
            lines.append("Every one of them:")
    if whole:
        lines.extend(f"• `{escape(p.cell)}`: {escape(p.message)}" for p in problems)
    else:
        lines.append(f"`{COMMAND} sheet` lists every one of them.")
    return "\n".join(lines)


def problems_unit(problems: Sequence[Problem], listed: bool = False) -> Unit:
    return Unit(blocks=sections(problems_text(problems, listed)), summary=f"{escape(problem_heading(problems))}.")


def untested_text(report: Report) -> str:
    """Why nothing was tested: each unread tab's sentence, else the generic one."""
    sentences = untested_sentences(report)
    if len(sentences) == 1:
        return f":warning: {escape(sentences[0])}"
    return "\n".join([f":warning: *{NOTHING_TESTED}*", *(f"• {escape(sentence)}" for sentence in sentences)])


def note_unit(note_mrkdwn: str) -> Unit:
    return Unit(blocks=sections(note_mrkdwn), summary=note_mrkdwn)


def sheet_link(source: str) -> str:
    """A Google Sheet becomes a link; a local file shows its name only."""
    key = google_key(source)
    if key is not None:
        return f"<https://docs.google.com/spreadsheets/d/{key}|Google Sheet>"
    return f"`{escape(PurePath(source).name or source)}`"


def slack_time(moment: dt.datetime) -> str:
    """A time each reader sees in their own time zone, with a UTC fallback."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    fallback = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def report_footer(report: Report, read_at: dt.datetime | None) -> Block:
    fisher = any(c.test_used == "fisher" for t in report.tests for c in t.comparisons)
    return context(
        f"Sheet: {sheet_link(report.source)}",
        f"read {slack_time(read_at)}" if read_at else "",
        f"as of {report.as_of.isoformat()}" if report.as_of else "",
        "Fisher: exact test for small counts" if fisher else "",
    )


# -- whole messages ------------------------------------------------------------------------------
def render_status_posts(
    report: Report,
    *,
    heading: str = HEADING,
    note: str | None = None,
    read_at: dt.datetime | None = None,
    standing: Standing | None = None,
) -> list[tuple[Payload, list[TestResult]]]:
    """The messages `/microopt status` posts, each with the tests it holds (their charts go beside it).

    A message is a header, one section per test (verdict first, then the numbers, then its buttons or what
    the team decided, from `standing`) and a context line. `note` is mrkdwn written by microopt: escape
    anything from the sheet before passing it.
    """
    units: list[Unit] = []
    if note:
        units.append(note_unit(note))
    if not report.tests and not note:
        units.append(note_unit(untested_text(report)))
    problems = beside_tabs(report)
    problems_first = bool(problems) and (not report.tests or changes_verdicts(report))
    if problems_first:
        units.append(problems_unit(problems))
    units.extend(test_unit(test, standing) for test in report.tests if test.status == "running")
    resting = [test for test in report.tests if test.status != "running"]
    if resting:
        units.append(note_unit(resting_text(resting)))
    if problems and not problems_first:
        units.append(problems_unit(problems))
    footer = report_footer(report, read_at)
    messages = pack(units, heading, footer)
    return list(zip(to_payloads(messages, heading, footer), [m.tests for m in messages], strict=True))


def render_status_messages(
    report: Report,
    *,
    heading: str = HEADING,
    note: str | None = None,
    read_at: dt.datetime | None = None,
) -> list[Payload]:
    """The `chat.postMessage` payloads (`text` and `blocks`) of `/microopt status`, for the CLI preview too."""
    posts = render_status_posts(report, heading=heading, note=note, read_at=read_at)
    return [payload for payload, _ in posts]


def render_notice(mrkdwn: str, heading: str | None = None) -> Payload:
    """A short reply (an error sentence, a confirmation). `mrkdwn` must already be escaped."""
    blocks = ([header(heading)] if heading else []) + sections(mrkdwn)
    return {"text": _clip(mrkdwn, MAX_FALLBACK_TEXT), "blocks": blocks[:MAX_BLOCKS]}


HELP_LINES = (
    (f"`{COMMAND} status`", "verdicts for the campaigns routed to this channel by the sheet's Channels tab"),
    (f"`{COMMAND} status spring sale`", "verdicts for the campaigns or tests whose name matches"),
    (f"`{COMMAND} plan spring sale`", "plan the campaign's next test: which micro metric, visitors, days and money"),
    (f"`{COMMAND} sheet`", "which sheet is linked, when it was last read, and the cells that need a look"),
    (START_DIGESTS, "post a digest here on a schedule"),
    (f"`{COMMAND} schedule off`", "stop this channel's digest"),
    (f"`{COMMAND} schedule`", "show this channel's schedule"),
    (f"`{COMMAND} connect <Google Sheet URL>`", "read this channel's verdicts from a sheet of its own"),
    (f"`{COMMAND} connect`", "show which sheet this channel reads; `disconnect` goes back to the default"),
    (f"`{COMMAND} help`", "this message"),
)


def help_text(unknown: str | None = None) -> str:
    lines = []
    if unknown:
        lines.append(f"I don't know `{escape(_clip(unknown, 80))}`. Here is what I can do:")
    lines.extend(f"{usage} — {what}" for usage, what in HELP_LINES)
    lines.append(
        "A verdict says what to do with the budget: move it, keep the test running, stop it, "
        "or check the tracking first."
    )
    return "\n".join(lines)


def render_help(unknown: str | None = None) -> Payload:
    return render_notice(help_text(unknown), heading="microopt")


def tabs_text(tabs: Sequence[TabReading]) -> str:
    """One line per tab: which layout was recognised and which column plays which role; then the tabs nothing
    was tested from, each with its sentence."""
    lines: list[str] = []
    read = [reading for reading in tabs if reading.read]
    if read:
        lines.append("*How each tab was read*:")
        lines.extend(f"• {escape(reading.summary)}" for reading in read)
    not_read = unread(tabs)
    if not_read:
        lines.append(f"*{NOTHING_TESTED} from*:" if not read else "*Not tested*:")
        lines.extend(f"• {escape(reading.summary)}" for reading in not_read)
    return "\n".join(lines)


def render_sheet_messages(
    *,
    source: str,
    last_read: dt.datetime | None,
    problems: Sequence[Problem],
    tests: int,
    notes: Sequence[str] = (),
    tabs: Sequence[TabReading] = (),
) -> list[Payload]:
    """`/microopt sheet`: the linked sheet, when it was last read, how each tab was read, every problem with
    its cell."""
    heading = "Linked sheet"
    read = f"last read {slack_time(last_read)}" if last_read else "not read since microopt started"
    units = [
        note_unit(
            f"Sheet: {sheet_link(source)} · {read}\n"
            f"{counted(tests, 'test')} found" + ("; no cells need a look." if not problems else ".")
        )
    ]
    if tabs:
        tested = sum(1 for reading in tabs if reading.read)
        summary = f"{counted(tested, 'tab')} read" + (
            f", {len(tabs) - tested} not tested." if tested < len(tabs) else "."
        )
        units.append(Unit(blocks=sections(tabs_text(tabs)), summary=summary))
    if problems:
        units.append(problems_unit(problems, listed=True))
    if notes:
        units.append(note_unit("\n".join(notes)))
    return to_payloads(pack(units, heading), heading)
