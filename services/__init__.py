"""Zhijia's services: each folder is its own process with its own database."""
