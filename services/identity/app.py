"""Wiring of the identity service (统一身份认证) on the service kit: its settings, its signing
keys, the notifier and real-name ports, the enrollment client, and its routes."""

from contextlib import AsyncExitStack
from datetime import timedelta

from fastapi import FastAPI

from services.identity.adapters.dev_notifier import DevFileNotifier
from services.identity.adapters.enrollment import EnrollmentClient
from services.identity.adapters.realname import HttpRealNameProvider
from services.identity.adapters.sms_gateway import SmsGatewayNotifier
from services.identity.api.routes import router
from services.identity.api.staff import router as staff_router
from services.identity.domain.ports import CodeNotifier, RealNameProvider
from services.identity.handlers.common import Deps, Lifetimes
from services.identity.handlers.housekeeping import Housekeeping
from services.identity.handlers.keys import SigningKeys
from services.identity.settings import IdentitySettings
from shared.contracts.identity import AccessClaims, AccountRole
from shared.contracts.topics import IDENTITY_EVENTS
from shared.pii import PiiProtector, derive_key
from shared.runtime import run_service
from shared.service import Runtime, ServiceSpec, Started, build_service

SERVICE = "identity"
MIGRATIONS = ["services.identity.migrations"]
SERVICE_TOKEN_SECONDS = 60


def notifier_of(settings: IdentitySettings, stack: AsyncExitStack) -> CodeNotifier:
    """The development file (IDENTITY_NOTIFIER=dev) or the SMS gateway (=sms, SMS_GATEWAY_*)."""
    if settings.identity_notifier == "dev":
        return DevFileNotifier(settings.identity_dev_codes_file)
    sms = SmsGatewayNotifier.from_env()
    stack.push_async_callback(sms.aclose)
    return sms


def realname_of(settings: IdentitySettings, stack: AsyncExitStack) -> RealNameProvider | None:
    """The provider (REALNAME_PROVIDER_*); unset: real-name verification answers 503."""
    if not settings.realname_provider_url:
        return None
    provider = HttpRealNameProvider.from_env()
    stack.push_async_callback(provider.aclose)
    return provider


def create_app(settings: IdentitySettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        secret = settings.identity_key_secret.get_secret_value()
        keys = SigningKeys(runtime.pool, secret)
        await keys.ensure_first_key()
        runtime.add_token_keys(keys)  # its own tokens, verified by the kit like any other
        runtime.background("signing-keys", keys)

        async def service_token() -> str:
            claims = AccessClaims(sub=SERVICE, role=AccountRole.SERVICE)
            return await keys.sign(claims, SERVICE_TOKEN_SECONDS)

        enrollment = EnrollmentClient(settings.enrollment_url, service_token)
        runtime.stack.push_async_callback(enrollment.close)
        deps = Deps(
            pool=runtime.pool,
            events=runtime.events,
            pii=PiiProtector(settings.pii_key.get_secret_value()),
            keys=keys,
            notifier=notifier_of(settings, runtime.stack),
            realname=realname_of(settings, runtime.stack),
            enrollment=enrollment,
            enrollment_url=settings.enrollment_url,
            code_key=derive_key(secret, b"zhijia identity one-time codes"),
            csrf_key=derive_key(secret, b"zhijia identity csrf"),
            lifetimes=Lifetimes(
                access_seconds=settings.identity_access_token_seconds,
                refresh=timedelta(days=settings.identity_refresh_days),
                key_publish_lead=timedelta(seconds=settings.identity_key_lead_seconds),
            ),
        )
        runtime.background("identity-housekeeping", Housekeeping(deps))
        return Started(deps)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia identity (统一身份认证)",
            description="Accounts and sign-in: members by phone and one-time code with real-name "
            "verification, staff accounts and role bindings, EdDSA access tokens and their JWKS, "
            "refresh families, browser sessions.",
            routers=[router, staff_router],
            start=start,
            migrations=MIGRATIONS,
            publishes=IDENTITY_EVENTS,
        ),
    )


def main() -> None:
    run_service(SERVICE, IdentitySettings, create_app)
