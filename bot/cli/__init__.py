"""`microopt`: the command line (`bot.cli.app`); shared options in `bot.cli.options`, one module per command."""

from bot.cli.app import app, main

__all__ = ["app", "main"]
