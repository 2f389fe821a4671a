"""Card rules: what a member's card says, as pure functions."""
