"""Legal rights (法律维权)."""
