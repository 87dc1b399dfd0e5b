import pytest

from source_jira_port.deletions.known import KnownSet


def test_the_known_set_survives_the_state_round_trip() -> None:
    issues = {str(10_000 + n * 3): f"P{n % 4}-{n // 4 + 1}" for n in range(2_000)}
    issues |= {"5": "LEGACY-007", "6": "no-number-here", "7": "A-B-12"}
    known = KnownSet(
        issues, {"projects": {"10000": "P0"}, "users": {"5b10a": "Ada"}}, syncs_since_sweep=2
    )

    back = KnownSet.from_state(known.to_state())

    assert back == known


def test_sequential_issues_cost_about_a_byte_each_in_the_state() -> None:
    issues = {str(10_000 + n): f"PROJ-{n + 1}" for n in range(100_000)}

    assert len(KnownSet(issues).to_state()["issues"]) < 100_000


def test_an_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        KnownSet.from_state({"version": 99, "issues": ""})
