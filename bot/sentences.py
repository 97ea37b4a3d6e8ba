"""User-facing sentences said by more than one surface, each written once (terminal, Slack, digests)."""

NO_TESTS = (
    "No tests found in the sheet. Each Results tab needs `Campaign`, `Variant`, a traffic column "
    "(`Visitors`, `Sessions`, `Users` or `Clicks`) and a metric column marked `(micro)` or `(macro)`, "
    "or paste an ad platform's export as it comes."
)
