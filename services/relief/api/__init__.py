"""Relief's HTTP API: parse, build a command, call its handler, shape the answer."""
