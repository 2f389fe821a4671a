"""The names of the monthly flows (facts.measure) and what each counts (docs/reports.md)."""

JOINED = "joined"  # enrollment.MemberEnrolled and MemberReinstated, at the member's base union
LEFT = "left"  # enrollment.MemberLeft
TRANSFERRED_IN = "transferred_in"  # enrollment.MemberTransferred, at to_union_id
TRANSFERRED_OUT = "transferred_out"  # ... at from_union_id
CASES_OPENED = "relief_cases_opened"  # relief.CaseOpened / CaseReopened
AID_PAID = "aid_paid"  # relief.AidDisbursed (and student aid, from the tuition budget): fen, dim the aid type
# relief.ProgrammeAidPaid at the member's base union and EmployerConsoled at the paying union: fen, dim
# "programme/group" (consolation/deep, consolation/employer, student_aid/undergraduate)
PROGRAMME_PAID = "programme_paid"
DISPUTES_FILED = "disputes_filed"  # legal.CaseFiled, dim the dispute kind
DISPUTES_CLOSED = "disputes_closed"  # legal.CaseClosed, dim the outcome
RECOVERED = "recovered"  # legal.CaseClosed: recovered_fen, dim the outcome
MEDIATIONS = "mediations"  # legal.MediationEnded, dim agreement / failed / window_passed
LETTERS_SENT = "letters_sent"  # legal.SupervisionLetterSent, dim the letter kind
LETTERS_ANSWERED = "letters_answered"  # legal.SupervisionAnswered, dim rectified / not_rectified
ENTRIES = "entries"  # competitions.EntryRegistered, at the organising union, dim the competition kind
ENTRIES_WITHDRAWN = "entries_withdrawn"  # competitions.EntryWithdrawn
AWARDS = "awards"  # competitions.AwardGranted
IDEAS_ADOPTED = "ideas_adopted"  # competitions.IdeaAdopted
REDEMPTIONS = "redemptions"  # partners.OfferRedeemed at the member's base union then, dim the partner
