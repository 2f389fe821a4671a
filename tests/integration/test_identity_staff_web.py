"""Staff sign-in for web pages (a till's browser): POST /web/staff-sessions checks what
/staff/sessions checks and answers what /web/sessions answers (an access token; the refresh token
in an HttpOnly `__Host-` cookie, a CSRF cookie); /web/token renews it with X-CSRF-Token and
/web/sign-out ends it. A wrong password sets no cookie."""

from collections.abc import AsyncIterator

import httpx
import jwt
import pytest

from services.identity.api.routes import CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE
from tests.integration.conftest import Stack
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_identity import cookie_header, cookies_of, value_of
from tests.integration.test_identity_staff import PASSWORD, Staff

pytestmark = pytest.mark.integration


@pytest.fixture
async def staff(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Staff]:
    yield Staff(Api(stack_env, http))


async def test_till_staff_sign_in_on_a_web_page_renews_and_signs_out_with_cookies(staff: Staff) -> None:
    account_id, username = await staff.account()
    granted = await staff.grant(account_id, role="partner_staff", partner_id="till-web-1")
    assert granted.status_code == 201, granted.text

    answer = await staff.post("/web/staff-sessions", {"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "refresh_token" not in body and body["account_id"] == account_id
    assert answer.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["role"] == "partner_staff" and claims["partner_id"] == "till-web-1"
    set_cookies = cookies_of(answer)
    refresh_line, csrf_line = set_cookies[REFRESH_COOKIE], set_cookies[CSRF_COOKIE]
    for attribute in ("httponly", "secure", "samesite=strict", "path=/"):
        assert attribute in refresh_line.lower()
    assert "httponly" not in csrf_line.lower()
    refresh, csrf = value_of(refresh_line), value_of(csrf_line)

    token_url = f"{staff.url}/web/token"
    assert (await staff.http.post(token_url, headers=cookie_header(refresh, csrf))).status_code == 403
    renewed = await staff.http.post(token_url, headers={**cookie_header(refresh, csrf), CSRF_HEADER: csrf})
    assert renewed.status_code == 200, renewed.text
    renewed_claims = jwt.decode(renewed.json()["access_token"], options={"verify_signature": False})
    assert renewed_claims["role"] == "partner_staff" and renewed_claims["sid"] == claims["sid"]
    new_refresh = value_of(cookies_of(renewed)[REFRESH_COOKIE])
    assert new_refresh != refresh

    signed_out = await staff.http.post(
        f"{staff.url}/web/sign-out", headers={**cookie_header(new_refresh, csrf), CSRF_HEADER: csrf}
    )
    assert signed_out.status_code == 204
    after = await staff.http.post(token_url, headers={**cookie_header(new_refresh, csrf), CSRF_HEADER: csrf})
    assert after.status_code == 401


async def test_a_wrong_password_on_the_web_staff_sign_in_sets_no_cookie(staff: Staff) -> None:
    _, username = await staff.account()
    wrong = await staff.post("/web/staff-sessions", {"username": username, "password": "not the password!"})
    assert wrong.status_code == 401, wrong.text
    assert wrong.headers.get_list("set-cookie") == []
    unknown = await staff.post("/web/staff-sessions", {"username": "nobody.here", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["detail"] == wrong.json()["detail"]
    bad = await staff.post("/web/staff-sessions", {"username": username})
    assert bad.status_code == 422
