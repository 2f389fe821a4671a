"""Competitions and honours (劳动竞赛, 技能竞赛, 金点子, 工人先锋号, 劳模). HTTP port 8005, own database.

A union organises a competition for the members of its subtree: weighted criteria, one or more
stages (e.g. quarterly), each with a panel of judges (cadres named by their token `sub`) and a
chief judge. Members (or teams of members, belonging to a union group) register; the service
knows who is a member from enrollment's events, and withdraws a leaver's individual entries.

Per stage: judges submit one locked sheet per entry (blind stages show only HMAC-derived codes
until publication; a judge never scores an entry from their own union); the chief judge reviews
entries whose judges spread wider than the stage's gap; the organiser publishes the ranking
(成绩公示), which opens the objection window; the chief judge resolves objections (an upheld one
may correct sheets, in the trail with before and after); after the window the results are final
and each member of a ranked entry gets `competitions.ResultFinalized`. Awards (and honours that
come with them), golden-idea adoption, and model-worker titles (at most five years a term,
renewed after an assessment, revocable) follow. Arithmetic is exact: see domain/scoring.py.
"""
