"""Lines logged while a consumer applies an event carry its correlation and event ids."""

import json
import logging
import uuid
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import applying_event, configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; other tests get theirs back."""
    handlers, level = logging.getLogger().handlers[:], logging.getLogger().level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.getLogger().handlers[:] = handlers
    logging.getLogger().setLevel(level)


def test_lines_logged_while_an_event_is_applied_name_it_and_no_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("logging-test")
    log = get_logger("t")
    event_id = uuid.uuid4()
    with applying_event("corr-1", event_id):
        log.info("inside")
    log.info("after")
    inside, after = (json.loads(line) for line in capsys.readouterr().out.splitlines()[-2:])
    assert inside["event"] == "inside"
    assert inside["correlation_id"] == "corr-1" and inside["event_id"] == str(event_id)
    assert inside["service"] == "logging-test"
    assert after["event"] == "after" and "event_id" not in after and "correlation_id" not in after
