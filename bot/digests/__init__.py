"""The digest engine: every scheduled digest, from the slot that falls due to the record of how it ended.

A run, in the order it happens (`run.post_digests(deps, now)` is the whole job; the scheduler calls it each minute):

- `sheets`    read each sheet of the run once (MICROOPT_SHEET and every linked sheet), analyse once, route it
- `planning`  which slots are due, taken back up, closing or waiting for their retry
- `routing`   which running tests go to a channel, and that channel's digest
- `runner`    claim a slot, post it or find it already posted, record how it ended; channels concurrently
- `workspaces` one runner per workspace, each with its own token
- `posting`   one digest's messages into Slack exactly once
- `recovery`  leases, the history check before anything is sent again, windows that close
- `pacing`    one message a second per channel
- `outcomes`  what a run did, as codes; `record` the recent trouble read back from the database
- `notes`     the words for all of it (what `microopt digest` prints and `/microopt sheet` lists)

Schedules (what people type, DST-safe slots, which schedule each channel follows) are `bot.schedules`;
the rows a slot keeps in the database are `bot.state.digest_rows`.
"""
