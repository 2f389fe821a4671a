"""The console's 帮扶项目 forms (console-programmes.js) offer exactly the groups and school types
of the contracts, with the contracts' Chinese words: no code a person would read, none missing,
none the service would refuse."""

import re
from pathlib import Path

from shared.contracts.relief_programmes import (
    RECIPIENT_GROUP_LABELS,
    SCHOOL_TYPE_LABELS,
    RecipientGroup,
    SchoolType,
)

SCRIPT = Path(__file__).resolve().parents[2] / "services" / "web" / "static" / "console-programmes.js"


def _pairs(name: str) -> dict[str, str]:
    block = re.search(rf"const {name} = \[(.*?)\];", SCRIPT.read_text(encoding="utf-8"), re.S)
    assert block, f"{name} is gone from console-programmes.js"
    return dict(re.findall(r'\["(\w+)", "([^"]+)"\]', block.group(1)))


def test_the_launch_form_offers_every_recipient_group_by_its_label() -> None:
    assert _pairs("GROUPS") == {g.value: RECIPIENT_GROUP_LABELS[g] for g in RecipientGroup}


def test_the_window_form_offers_every_school_type_by_its_label() -> None:
    assert _pairs("SCHOOL_TYPES") == {t.value: SCHOOL_TYPE_LABELS[t] for t in SchoolType}


def test_the_page_is_served_with_its_script() -> None:
    html = SCRIPT.with_name("console.html").read_text(encoding="utf-8")
    assert '<script src="/assets/console-programmes.js" defer></script>' in html
    assert html.index("/assets/console.js") < html.index("/assets/console-programmes.js")  # its helpers first
