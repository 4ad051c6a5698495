"""Every form with errors opens with a summary that counts them and links each
to its field; required fields say so to screen readers inside their label."""

import re
from typing import Any

from moraspar.models import Role

SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)


def _summary(html: str) -> tuple[str, str]:
    """The summary's opening tag and its content."""
    match = SUMMARY.search(html)
    assert match is not None, "no error summary"
    opening = html[match.start() : html.index(">", match.start()) + 1]
    return opening, match.group(1)


def test_login_errors_are_counted_and_linked_to_their_fields(client: Any) -> None:
    html = client.post_form("/login", {}).get_data(as_text=True)
    opening, content = _summary(html)
    assert 'tabindex="-1"' in opening and "autofocus" in opening
    assert 'role="alert"' in opening
    assert "Det finns 2 fel att rätta" in content
    links = re.findall(r'<a href="#([\w-]+)">', content)
    assert links == ["email", "password"]
    for field_id in links:
        assert f'id="{field_id}"' in html


def test_placement_errors_are_counted_in_english(client: Any, auth: Any) -> None:
    auth.login(Role.COMPANY, language="en")
    data = {"title": "Svetsning", "places": "0"}
    html = client.post_form("/company/placements/new", data).get_data(as_text=True)
    _opening, content = _summary(html)
    assert "There are 5 errors to correct" in content
    links = re.findall(r'<a href="#([\w-]+)">', content)
    assert links == [
        "kind",
        "places",
        "locality",
        "supervisor_name",
        "supervisor_contact",
    ]
    assert "Number of places: Offer at least one place." in content


def test_one_error_is_counted_in_the_singular(client: Any) -> None:
    client.post_form("/language", {"language": "en"})
    html = client.post_form("/reset", {"email": "nope"}).get_data(as_text=True)
    _opening, content = _summary(html)
    assert re.findall(r'<a href="#([\w-]+)">', content) == ["email"]
    assert "There is 1 error to correct" in content


def test_no_summary_without_errors(client: Any) -> None:
    assert 'class="error-summary"' not in client.get("/login").get_data(as_text=True)


def test_required_fields_say_so_inside_their_label(client: Any) -> None:
    html = client.get("/register").get_data(as_text=True)
    labels = re.findall(
        r'<label class="field__label" for="([\w-]+)">(.*?)</label>', html, re.S
    )
    assert labels, "no labelled fields"
    required = [
        (field_id, text) for field_id, text in labels if 'class="required"' in text
    ]
    assert required, "no required field marked"
    for field_id, text in required:
        assert '<span aria-hidden="true"> *</span>' in text, field_id
        assert '<span class="visually-hidden"> (obligatoriskt)</span>' in text
        assert re.search(
            rf'id="{field_id}"[^>]*aria-required="true"|aria-required="true"[^>]*id="{field_id}"',
            html,
        ), field_id
