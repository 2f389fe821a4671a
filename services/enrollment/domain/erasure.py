"""Who may be erased (删除个人信息, PIPL art. 47): a person the union no longer needs to know.
A member only once they have left; an applicant who never became one once no application of
theirs awaits a decision (approving it after the erasure would bring back a nameless member)."""

from shared.contracts.enrollment import MembershipStatus
from shared.errors import Conflict


def require_erasable_member(status: MembershipStatus, application_pending: bool) -> None:
    if status is not MembershipStatus.LEFT:
        raise Conflict("only a member who has left may be erased; the member is still active")
    if application_pending:
        raise Conflict("an application of this person is pending: decide it before the erasure")


def require_erasable_applicant(*, is_member: bool, application_pending: bool, erased: bool) -> None:
    if erased:
        raise Conflict("this applicant's personal data is erased already")
    if is_member:
        raise Conflict("this applicant became a member: erase them as a member, once they have left")
    if application_pending:
        raise Conflict("an application of this person is pending: decide it before the erasure")
