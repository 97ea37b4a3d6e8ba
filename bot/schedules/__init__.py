"""Digest schedules: the words of a schedule and its DST-safe slots (`slots`), and which schedule each channel
follows (`by_channel`)."""
