"""Pure analysis: sheet cells in, verdicts out. No Slack, Google, clock or environment access."""
