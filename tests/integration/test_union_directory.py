"""The public directory of base unions (我要入会 chooses one there): no sign-in, names and regions
only, searched by words of the union's or its parents' names (an employer) and by region."""

import uuid

import httpx
import pytest

from tests.integration.conftest import Stack
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


async def test_anyone_finds_base_unions_by_employer_words_and_region(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    api = Api(stack_env, http)
    units = await api.tree()
    url = f"{api.enrollment}/directory/unions"
    tag = (await http.get(f"{api.enrollment}/unions/{units['city']}/subtree", headers=api.admin)).json()[0][
        "name"
    ]

    found = await http.get(url, params={"q": "物流", "region": "330100", "limit": 1000})  # no token
    assert found.status_code == 200, found.text
    ids = {u["union_id"] for u in found.json()}
    assert str(units["logistics"]) in ids and str(units["riders"]) not in ids
    assert str(units["district"]) not in ids and str(units["city"]) not in ids  # base unions only
    mine = next(u for u in found.json() if u["union_id"] == str(units["logistics"]))
    assert set(mine) == {"union_id", "name", "region", "path"} and mine["path"][1:] == [
        "西湖区总工会",
        "某物流公司工会",
    ]
    tag = mine["path"][0]  # the city's name, unique to this test

    # Words of a parent's name find every base union below it; paging by union_id.
    below_city = await http.get(url, params={"q": tag, "limit": 1})
    assert below_city.status_code == 200 and len(below_city.json()) == 1
    rest = await http.get(url, params={"q": tag, "after": below_city.json()[0]["union_id"]})
    assert {u["union_id"] for u in below_city.json() + rest.json()} == {
        str(units["logistics"]),
        str(units["riders"]),
    }

    # Elsewhere, nothing; pattern characters are plain text; a bad region is a 422 with a reason.
    assert (await http.get(url, params={"q": tag, "region": "110000"})).json() == []
    assert (await http.get(url, params={"q": "%"})).json() == []
    bad = await http.get(url, params={"region": "33"})
    assert bad.status_code == 422, bad.text
    assert (await http.get(url, params={"after": str(uuid.UUID(int=2**128 - 1))})).json() == []
