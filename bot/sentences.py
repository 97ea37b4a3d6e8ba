"""User-facing sentences said by more than one surface, each written once (terminal, Slack, digests), and
the two ways any sentence quotes what someone wrote or who did something."""

import re
from collections.abc import Callable, Sequence

# Quotes of what someone typed (a schedule, a sheet cell) are cut to this many characters.
QUOTE_CHARS = 80
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")

NO_TESTS = (
    "No tests found in the sheet. Each Results tab needs `Campaign`, `Variant`, a traffic column "
    "(`Visitors`, `Sessions`, `Users` or `Clicks`) and a metric column marked `(micro)` or `(macro)`, "
    "or paste an ad platform's export as it comes."
)


def no_match(
    query: str, campaigns: Sequence[str], where: str = "in the sheet", mark: Callable[[str], str] = str
) -> str:
    """`--campaign nosuch` and `/microopt status nosuch`: nothing matches, and what would (`mark` escapes names)."""
    names = ", ".join(f"“{mark(name)}”" for name in campaigns)
    if not campaigns:
        listed = f"There are no tests {where} yet."
    elif len(campaigns) == 1:
        listed = f"The campaign {where} is {names}."
    else:
        listed = f"The campaigns {where} are {names}."
    return f"No campaign or test matches “{mark(shorten(query))}”. {listed}"


NO_DATABASE = "microopt has no database configured: set DATABASE_URL (or leave it unset for SQLite)."
NO_SLACK_CLIENT = "microopt has no Slack client to post with: set SLACK_BOT_TOKEN and run it with its Slack settings."

# How to start digests in a channel, as every sentence that suggests it writes it.
START_DIGESTS = "`/microopt schedule weekdays 09:00`"


def schedule_origin(source: str, by: str = "") -> str:
    """Where a channel's digest schedule was set: the Channels tab (`sheet`) or the slash command (`by` whom)."""
    return "set in the Channels tab" if source == "sheet" else f"set with /microopt schedule{by}"


def digest_interval(where: str, description: str) -> str:
    """How often digests post to a channel: `Digests for #spring-sale: weekdays at 09:00 (Europe/London)`."""
    return f"Digests for {where}: {description}"


def counted(count: float, singular: str, plural: str | None = None) -> str:
    """`1 cell`, `2 cells`, `1,204 rows`: a count and its noun, agreeing in number."""
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` as quoted in a sentence: never longer than `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: str) -> str | None:
    """A Slack mention of `user_id` (`<@U0123>`), or None when it is not a user ID."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else None
