"""Legal rights (法律维权): labour disputes from intake to a closed case. Port 8004, database
zhijia_legal, topic legal.events.v1; reads enrollment.events.v1 for its own view of unions and
membership (as relief does).

- intake: a member files for themself, a cadre on a worker's behalf; collective cases cover
  several members against one employer; one case-number series (维权2026-000123); the green
  channel (domain/green_channel.py) sets priority with its reasons; a disposition ends intake
  (accept, accept-and-close with advice, reject with a reason and a referral, pending);
- stages (domain/stages.py): intake → consultation → mediation → arbitration → litigation →
  closed, table-driven, a 409 naming the allowed stages; closing records the outcome and the
  amount recovered;
- statutory clocks (domain/clocks.py) become rows of the `deadlines` table, fired exactly once
  by the scheduler (handlers/scheduler.py) as DeadlineApproaching / DeadlineMissed events;
- legal aid (domain/counsel.py): a roster with capacity, conflict check against the employers
  each counsel represented, load balancing, recorded handovers;
- supervision letters (domain/letters.py): reminder, opinion letter (15 working days on the
  official holiday calendar, table working_calendar, administered by the API), recommendation
  letter to labour inspection (5 working days); a year not yet published is counted by
  weekends alone and its deadlines marked provisional (暂按周末推算); a calendar change (a year
  published) recomputes the running working-day deadlines (handlers/calendar.py);
- legal dates (domain/timeline.py): a step's date lies between the case's latest step and today;
  mediation ends in an agreement, fails or its window passes, and only the last two (or no
  mediation) let arbitration follow;
- an append-only audit trail of every step; reports per union subtree and period.
"""
