from __future__ import annotations

import pytest

from source_jira_port.app.webhooks.signature import sign, verify

# The published X-Hub-Signature-256 example (same scheme: HMAC-SHA256 of the raw body, hex).
_SECRET = "It's a Secret to Everybody"
_BODY = b"Hello, World!"
_EXPECTED = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sign_matches_the_published_example() -> None:
    assert sign(_SECRET, _BODY) == _EXPECTED


def test_verify_accepts_the_signature_of_the_raw_body() -> None:
    assert verify(_SECRET, _BODY, _EXPECTED)
    assert verify(_SECRET, _BODY, f" {_EXPECTED} ")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        _EXPECTED.upper(),  # the prefix is part of the value
        _EXPECTED.removeprefix("sha256="),
        "sha1=" + _EXPECTED.removeprefix("sha256="),
        _EXPECTED[:-1] + "0",
        "sha256=ünïcödé",
    ],
)
def test_verify_rejects_a_wrong_or_missing_signature(header: str | None) -> None:
    assert not verify(_SECRET, _BODY, header)


def test_verify_rejects_another_body_or_secret() -> None:
    assert not verify(_SECRET, _BODY + b" ", _EXPECTED)
    assert not verify("other", _BODY, _EXPECTED)
