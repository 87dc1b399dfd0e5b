"""Which issues each issue resource's `selector.jql` matches (`jira-port sync` and webhooks).

The sync reads the issues of the union of the resources' JQL once (`issue_query.RESOURCE_JQL`).
To map each issue only with the resources whose JQL matches it, one id-only search per
resource lists the ids its JQL matches within the scope: the deletion sweep's definition
(`<deployment>_issue_ids_stream`: Cloud `fields=key`, 5000 a page; Server `fields=id`, 1000 a
page by default; key-set paged on id) with the resource's JQL ANDed to the scope, and bounded by
the read's own lower bound (`since`). So a sync costs one search per resource per 5000 (Cloud)
or 1000 (Server) issues it reads, not one per issue page.

The searches run after the read's range is fixed (the source's streams end at the sync's
start) and before it begins: an issue the read returns was not changed after that start (or it
would be outside the range), so the membership found is that of the version read.

The webhook applier bounds the searches by the ids it just read instead (`(id = 1 OR id = 2)`,
as the manifest's `issues_by_id_stream` writes it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from source_jira_port.deletions.sweep import list_issue_ids
from source_jira_port.issue_query import ISSUE_SCOPE, epoch_ms


def matching_issue_ids(
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    jql_by_resource: Mapping[str, str | None],
    since: datetime | None,
    ids: Collection[str] | None = None,
) -> dict[int, frozenset[str]]:
    """Return, by resource index, the ids of the issues in scope that the resource's JQL matches.

    Resources without a JQL (None) match every issue and are left out. `since` bounds
    `updated` from below (None: every issue in scope), `ids` the issues searched (None: all).
    Raises the manifest's errors (`AirbyteTracedException`) when Jira refuses.
    """
    matches = {}
    for index, jql in jql_by_resource.items():
        if jql is None:
            continue
        clauses = [config[ISSUE_SCOPE]] if config.get(ISSUE_SCOPE) else []
        clauses.append(f"({jql})")
        if since is not None:
            clauses.append(f"updated >= {epoch_ms(since)}")
        if ids is not None:
            clauses.append(f"({' OR '.join(f'id = {id_}' for id_ in ids)})")
        scoped = {**config, ISSUE_SCOPE: " AND ".join(clauses)}
        matches[int(index)] = frozenset(list_issue_ids(manifest, scoped))
    return matches
