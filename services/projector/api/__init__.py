"""The card API: JSON for apps, one page a member can open."""
