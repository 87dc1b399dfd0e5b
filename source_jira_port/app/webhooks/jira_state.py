"""Jira's current state of what webhook events name, read at apply time as the sync reads it.

Issues are read by id through the manifest's `<deployment>_issues_by_id_stream` (the sync's
fields, transformations and scope: projects and jql), 50 ids a search on Cloud with
`reconcileIssues`, 100 on Server; then, for issue resources with a `selector.jql`, which of
them each JQL matches (`resource_jql.py`). A project is read with `GET project/{id}` (404: gone), a
user with Cloud's `GET user?accountId=` or Server's `GET user?key=` (404: gone). Cloud answers
that 404 for every user to an account without 'Browse users and groups' too, so whether the
account holds it is asked before a user is taken as gone (`browses_users`).
The resolved manifest and config are built once, with the `jql` option checked (a search
that Jira refuses only because of a missing id must not be confused with a bad jql, which would
read as "every issue is gone"), and built again after a failure (a token or site fixed
meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.issue_query import in_projects_option
from source_jira_port.jira_client import JiraClient, JiraError, api_path, resolve_deployment
from source_jira_port.jira_site import api_base
from source_jira_port.jql_check import ensure_valid_jql
from source_jira_port.pending_retry import CHUNK_SIZE, RECONCILE_LIMIT, read_issues_by_id
from source_jira_port.resource_jql import matching_issue_ids
from source_jira_port.source import SourceJiraPort
from source_jira_port.stream_names import PROJECTS, USERS

Record = Mapping[str, Any]
# The key of the 'Browse users and groups' global permission.
BROWSE_USERS = "USER_PICKER"


class JiraUnavailableError(Exception):
    """Jira could not be read (network, 5xx or 429 after retries, a config error): apply later.

    `status`: Jira's HTTP status when it answered (401/403: a permission error), else None.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JiraState:
    """Reads the current issues, projects and users of the job's Jira site."""

    def __init__(self, jira: Mapping[str, Any]) -> None:
        self._jira = dict(jira)
        self._source: SourceJiraPort | None = None
        self._clients: dict[str, JiraClient] = {}  # by stream, for the resolved source
        self._browses_users = False

    def issues(self, ids: Sequence[str]) -> dict[str, Record]:
        """Return the issues records of `ids` Jira has in scope now, by id; the rest are gone."""
        try:
            manifest, config = self._resolved()
            chunk = RECONCILE_LIMIT if config["resolved_deployment"] == "cloud" else CHUNK_SIZE
            return {
                str(record["id"]): record
                for record in read_issues_by_id(manifest, config, ids, chunk_size=chunk)
            }
        except (AirbyteTracedException, ValueError) as error:
            raise self._unavailable(error) from error

    def issue_jql_matches(
        self, ids: Sequence[str], jql_by_resource: Mapping[int, str]
    ) -> dict[int, frozenset[str]]:
        """Return, by resource index, which of `ids` the resource's `selector.jql` matches now.

        One id-only search per resource: `(<jql>) AND (id = … OR id = …)` in the sync's scope.
        """
        try:
            manifest, config = self._resolved()
            by_resource = {str(index): jql for index, jql in jql_by_resource.items()}
            return matching_issue_ids(manifest, config, by_resource, None, ids)
        except (AirbyteTracedException, ValueError) as error:
            raise self._unavailable(error) from error

    def project(self, project_id: str) -> Record | None:
        """Return the projects record of `project_id`; None when the sync would not list it.

        That is: Jira answers 404, or the project is archived or in the trash, or outside the
        `projects` option.
        """
        found, config = self._get(PROJECTS, f"project/{project_id}", lambda _: {})
        return found if found is not None and _synced_project(found, config) else None

    def user(self, identity: str) -> Record | None:
        """Return the users record of `identity`; None when Jira answers 404 or marks it deleted.

        `identity` is the Cloud `accountId` or the Server/Data Center user `key`. Cloud's "Get
        user" answers 403 without the 'Browse users and groups' permission, 404 for no such
        account; Server's `GET user` 404 for no such user (a `deleted: true` user is one Jira
        keeps for references, not in its user list).
        """

        def params(config: Mapping[str, Any]) -> dict[str, str]:
            cloud = config["resolved_deployment"] == "cloud"
            return {"accountId": identity} if cloud else {"key": identity}

        found, _ = self._get(USERS, "user", params)
        return None if found is None or found.get("deleted") is True else found

    def browses_users(self) -> bool:
        """Whether a user that `user` does not find is gone, not hidden from the account.

        Cloud's "Get user" answers 404 both for no such account and to a caller without the
        'Browse users and groups' global permission (`USER_PICKER`), which "Get my permissions"
        tells. Asked until it is held, then kept for the process: a permission granted later
        counts at once. Server / Data Center refuses such a caller with an error instead.
        """
        if self._browses_users:
            return True
        try:
            _, config = self._resolved()
        except (AirbyteTracedException, ValueError) as error:
            raise self._unavailable(error) from error
        if config["resolved_deployment"] != "cloud":
            self._browses_users = True
            return True
        found, _ = self._get(USERS, "mypermissions", lambda _: {"permissions": BROWSE_USERS})
        permission = ((found or {}).get("permissions") or {}).get(BROWSE_USERS) or {}
        self._browses_users = permission.get("havePermission") is True
        return self._browses_users

    def _get(
        self,
        stream: str,
        endpoint: str,
        params: Callable[[Mapping[str, Any]], Mapping[str, str]],
    ) -> tuple[Record | None, Mapping[str, Any]]:
        """Return Jira's object at `endpoint` (None on 404) and the resolved config.

        `params` gives the query parameters for the resolved config.

        A 404 here is an answer, not the config error it is in a read: the run goes on.
        """
        try:
            manifest, config = self._resolved()
            client = self._clients.get(stream)
            if client is None:
                client = JiraClient(config, manifest, name=stream, stops_run=False)
                self._clients[stream] = client
            found = client.get(api_path(config, endpoint), params(config))
        except JiraError as error:
            if error.status == 404:
                return None, {}
            raise self._unavailable(error) from error
        except (AirbyteTracedException, ValueError) as error:
            raise self._unavailable(error) from error
        if not isinstance(found, dict):
            raise self._unavailable(ValueError(f"the answer to GET {endpoint} is not an object"))
        return found, config

    def _resolved(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        if self._source is None:
            site = {
                **self._jira,
                "deployment": resolve_deployment(self._jira, api_base(self._jira)),
            }
            source = SourceJiraPort(None, site, None)
            ensure_valid_jql(source.resolved_manifest, source.resolved_config)
            self._source, self._clients = source, {}
        return self._source.resolved_manifest, self._source.resolved_config

    def _unavailable(self, error: Exception) -> JiraUnavailableError:
        self._source = None
        message = error.message if isinstance(error, AirbyteTracedException) else str(error)
        status = error.status if isinstance(error, JiraError) else None
        return JiraUnavailableError(message or type(error).__name__, status)


def _synced_project(project: Record, config: Mapping[str, Any]) -> bool:
    """Whether the projects stream lists `project`, which `GET project/{id}` answered.

    The stream lists live projects only: Server's `GET project` leaves archived ones out unless
    `includeArchived=true`, Cloud's `project/search` lists `status=live` unless told otherwise;
    `GET project/{id}` still answers 200 for an archived project (`archived: true`) and, on
    Cloud, for one in the trash (`deleted: true`). The `projects` option filters as the stream's
    record filter does.
    """
    if project.get("archived") or project.get("deleted"):
        return False
    return in_projects_option(project.get("key"), config)
