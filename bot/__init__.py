"""The edges of microopt: sheet sources, Slack, rendering, scheduling, state and the CLI."""
