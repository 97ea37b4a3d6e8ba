"""The Slack app: what arrives from Slack, in the order a request meets it.

- `app`, `asgi`, `intake`    the app built in a factory; the ASGI front gunicorn serves; a request checked before work
- `installs`                 OAuth installs in many workspaces, each workspace's client, uninstalls
- `listeners/`               ack, hand to a service, respond: commands, buttons, the Home tab, the plan modal
- `command_answer`           a slash command as it arrives and an answer as it leaves (posts, charts)
- `answers`                  what `/microopt …` answers, and who sees which tests; `status` its status answer
- `shared_reads`             one analysis per sheet read and one drawing per chart, for commands and Home tabs
- `schedule_command`, `connect_command`   `/microopt schedule` and `/microopt connect` / `disconnect`
- `answering`, `retries`     each command answered once across processes, retries dropped, stopped answers taken over
- `delivery`, `posting`      an answer's messages and charts into the channel, each message once
- `decisions/`               a press on a verdict's button: who may, the decision, the message, the sheet's rows
- `planning`                 planning the next test: the modal and *Add to sheet*
- `home`                     the Home tab a member opens
"""
