"""The digest engine: plan which slots are due, claim one, post it, recover a run cut short, record what
happened, with its words and its pacing (docs/architecture.md, "The digest engine")."""
