"""Listeners grouped by Slack surface, each module with `register(app, deps)`."""
