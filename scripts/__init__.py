"""Developer tooling: start the stack, mint tokens, play the demo scenario."""
