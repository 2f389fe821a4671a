"""Enrollment (入会): applications, review, membership and card numbers, transfers, leaving."""
