"""Headless subcommands of ``quarterdeck``. None of them imports Textual."""
