"""Command line: parse input, call library commands, render their results."""
