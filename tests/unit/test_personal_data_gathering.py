"""The export's gathering of other services' sections: a service that is not wired in, or does
not answer, is named as unavailable in plain Chinese, and the export is still given."""

import asyncio
import uuid

from scripts.stack import free_port
from shared.auth import Caller, Principal, Role
from shared.personal_data import Source, gather


def test_a_section_that_cannot_be_had_is_marked_unavailable_not_fatal() -> None:
    member_id = uuid.uuid4()
    caller = Caller(Principal(sub="m", role=Role.MEMBER, member_id=member_id), "corr", "Bearer x")
    sources = [
        Source("relief", "困难帮扶", None),
        Source("legal", "法律援助", f"http://127.0.0.1:{free_port()}"),  # nobody listens there
    ]
    got = asyncio.run(gather(sources, member_id, caller, seconds_each=2))
    assert [(s.service, s.status, s.section) for s in got] == [
        ("relief", "unavailable", None),
        ("legal", "unavailable", None),
    ]
    assert got[0].note == "困难帮扶：本环境未接入该服务，未能取得记录"
    assert got[1].note == "法律援助：暂时无法取得记录，请稍后再次查看"
