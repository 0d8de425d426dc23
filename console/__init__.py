"""Quarterdeck's front ends: the Textual console and the command line."""
