"""The Slack edge: app factory, listeners, Block Kit rendering, charts, posting."""
