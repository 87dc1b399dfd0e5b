"""Helpers to compare what syncs read with what Jira holds (tests and benchmarks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from integration_tests.fakes.jira_server import FakeJira
from integration_tests.support.messages import records

PAGE = 10


def ms(jira_time: str) -> int:
    return int(datetime.strptime(jira_time, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def offset_read(fake: FakeJira, jql: str) -> set[int]:
    """Read every page of `jql` the naive way: startAt (Server) or nextPageToken (Cloud)."""
    credentials = fake.source_config()["credentials"]
    auth = (
        credentials.get("email") or credentials["username"],
        credentials.get("api_token") or credentials["password"],
    )
    seen: set[int] = set()
    position: dict[str, Any] = {}
    while True:
        if fake.deployment == "server":
            url, params = "/rest/api/2/search", {"startAt": position.get("startAt", 0)}
        else:
            url, params = "/rest/api/3/search/jql", {"nextPageToken": position.get("token")}
        page = requests.get(
            fake.base_url + url,
            params={"jql": jql, "maxResults": PAGE, "fields": "id", **params},
            auth=auth,
            timeout=10,
        ).json()
        seen |= {int(issue["id"]) for issue in page["issues"]}
        position = {
            "startAt": page.get("startAt", 0) + len(page["issues"]),
            "token": page.get("nextPageToken"),
        }
        if (
            not page["issues"]
            or page.get("isLast")
            or position["startAt"] >= page.get("total", 10**9)
        ):
            return seen


def latest(*reads: list[dict[str, Any]]) -> dict[str, int]:
    """Issue id -> the newest `updated` (ms) any of the reads saw."""
    seen: dict[str, int] = {}
    for read in reads:
        for issue in records(read, "issues"):
            seen[issue["id"]] = max(seen.get(issue["id"], 0), ms(issue["updated"]))
    return seen


def jira_now(fake: FakeJira) -> dict[str, int]:
    return {str(issue.id): issue.updated for issue in fake.dataset.issues.values()}
