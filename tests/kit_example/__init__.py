"""A service written from docs/new-service.md, as the kit's own end-to-end test: the greeter
(入会欢迎) welcomes each new member a while after they join. It keeps the membership view,
schedules a durable timer, emits an event with its per-member version, writes the audit trail
and answers over HTTP with the kit's errors. Its wiring is app.py alone."""
