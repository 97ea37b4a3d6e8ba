"""Acting on verdicts from Slack: a press on a verdict's button, from a channel or the Home tab.

- `presses`    who may press (the installing workspace, MICROOPT_ADMINS, a routed channel or, from the Home tab,
               a member of one), the decision recorded once, the message updated in place, Undo
- `sheet_rows` the rows decisions owe the sheet's Decisions tab, written by one thread per process, retried
               while the sheet does not answer, and the message told once its row is in
- `notes`      what `/microopt status` and `/microopt sheet` say of decisions: snoozes in force, rows waiting
"""
