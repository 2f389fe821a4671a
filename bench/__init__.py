"""Benchmarks of Zhijia on a real Kafka broker and a real PostgreSQL: `make bench SIZE=small`.

Every figure is measured side by side in one run against the machine's own limits (a raw Kafka
consumer, a raw PostgreSQL COPY) and a naive design (one event per transaction). Results go to
bench/results/ (results.md, results.json, results.png); raw dumps to bench/raw/ (not committed).
"""
