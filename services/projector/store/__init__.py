"""The card read model's SQL."""
