"""The Slack Web API as microopt calls it, for every surface: the client factory (timeouts, retries on
rate limits) and the channel directory (names → IDs). No listeners here: the Slack app is `bot/slack`."""
