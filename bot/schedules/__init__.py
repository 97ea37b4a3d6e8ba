"""Digest schedules: `slots` turns what people type (`weekdays 09:00`, cron) into DST-safe slots;
`by_channel` says which schedule each channel follows (its Channels-tab row, or `/microopt schedule`)."""
