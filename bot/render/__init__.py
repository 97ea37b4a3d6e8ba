"""Pure functions from a report to what people read: terminal text, JSON, Slack payloads, charts."""
