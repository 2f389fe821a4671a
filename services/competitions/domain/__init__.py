"""Competitions rules: scoring arithmetic, judging rules, honours' terms. Pure, no I/O."""
