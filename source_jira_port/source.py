"""The Jira source: manifest.yaml, plus a check that proves the credentials and projects."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.agile import agile_messages, skipped_parts_for
from source_jira_port.cdk_compat import set_queue_size, transformed_config
from source_jira_port.check import verify_access
from source_jira_port.config_problems import MANIFEST
from source_jira_port.deletions.listed import listed_id_fields
from source_jira_port.deletions.sweep import list_issue_ids
from source_jira_port.deletions.tracker import DeletionTracker, split_state
from source_jira_port.estimate import estimate_issues
from source_jira_port.failed_read import report_failures_plainly
from source_jira_port.first_sync_windows import plan_issue_windows
from source_jira_port.issue_query import RESOURCE_JQL, sync_start
from source_jira_port.issues_state import (
    carry_in_issues_states,
    issues_blob,
    reads_issues_incrementally,
    take_from_issues_state,
)
from source_jira_port.jira_client import JiraClient
from source_jira_port.jql_check import ensure_valid_jql, ensure_valid_jql_before_read
from source_jira_port.pending_retry import read_issues_by_id, take_pending_ids, with_pending_issues
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.resource_jql import matching_issue_ids
from source_jira_port.state_keys import MAPPING_FINGERPRINT
from source_jira_port.stream_names import ISSUES

# Records read but not yet written: the CDK's queue holds up to 10,000, ~40 KB each as Python
# objects for an issue, whenever stdout is slower than the workers (a slow destination). Ten
# pages keep the RSS flat; fewer (250) let a destination's pauses stall the workers' requests.
QUEUE_SIZE = 1_000


class SourceJiraPort(YamlDeclarativeSource):
    """Airbyte source for Jira Cloud and Jira Server / Data Center.

    Config, catalog and state go to the constructor: the concurrent CDK reads them there. The
    deletion detection and pending retry parts of the issues state are taken out there and
    handled by `read`, which also carries the mapping fingerprint the writer left in it to the
    issues STATEs it emits (`state_keys.py`).
    """

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
    ) -> None:
        self._first_sync = not any(issues_blob(message) is not None for message in state or ())
        state, self._known = split_state(state)
        state, self._pending_ids = take_pending_ids(state)
        state, self._fingerprint = take_from_issues_state(state, MAPPING_FINGERPRINT)
        super().__init__(path_to_yaml=str(MANIFEST), catalog=catalog, config=config, state=state)
        set_queue_size(self, QUEUE_SIZE)  # one queue: records, partitions, logs
        resolved = self.resolved_config
        if catalog is not None and isinstance(resolved, MutableMapping):
            ensure_valid_jql_before_read(self.resolved_manifest, resolved, catalog)
            client = JiraClient(resolved, self.resolved_manifest, name=ISSUES)
            plan_issue_windows(resolved, catalog, state, client)  # before streams are built

    @property
    def resolved_config(self) -> Mapping[str, Any]:
        """The config as `ResolveJiraSite` completed it; the streams are built from it."""
        return transformed_config(self)

    def estimate_issues(self, cursor: str | None, logger: logging.Logger) -> int | None:
        """Return Jira's count of the issues a read from `cursor` covers (an ETA), or None.

        The answer is judged by the manifest, as the read's would be: a config error (Jira Cloud
        answers a wrong token anonymously, with a count of 0) stops the run and gives None, and
        after one nothing is asked.
        """
        if config_failure_for(self.resolved_config.get(RUN_ID)).message is not None:
            return None
        client = JiraClient(self.resolved_config, self.resolved_manifest, name=ISSUES)
        return estimate_issues(client, self.resolved_config, cursor, logger)

    def issue_ids_matching(self, cursor: str | None) -> dict[int, frozenset[str]]:
        """Return, by mapping resource index, the ids of the issues its `selector.jql` matches.

        Covers the issues a read from `cursor` returns (`resource_jql.py`), and every issue in
        scope when issues pending retry are read again by id. Empty without resource JQL.
        """
        jql_by_resource = self.resolved_config.get(RESOURCE_JQL) or {}
        if not any(jql_by_resource.values()):
            return {}
        config = self.resolved_config
        since = None if self._pending_ids else sync_start(config, cursor)
        return matching_issue_ids(self.resolved_manifest, config, jql_by_resource, since)

    def known_issue_ids(self) -> frozenset[str] | None:
        """Return the ids of the issues emitted before: the deletion detection's known set.

        Empty on a first sync (a state without issues); None when the state keeps no known set
        (deletion detection off, or a set it could not read), so any issue may be in Port.
        """
        if self._known is not None:
            return frozenset(self._known.issues)
        return frozenset() if self._first_sync else None

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove what a read needs: the credentials, each project, the JQL; then read projects.

        Jira answers many endpoints anonymously with 200 and empty results, so reading a stream
        alone proves nothing about the credentials (`/myself` does). Every cause is a FAILED
        status whose message says what to fix.
        """
        try:
            verify_access(self.resolved_manifest, self.resolved_config)
            ensure_valid_jql(self.resolved_manifest, self.resolved_config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        except (ValueError, KeyError, TypeError) as error:
            message = (
                f"The answer to the check is not Jira's ({type(error).__name__}). Check the Jira "
                "URL: a proxy or a login page may answer in Jira's place."
            )
            return AirbyteConnectionStatus(status=Status.FAILED, message=message)
        return super().check(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """Read the catalog's streams, plus deletion records when deletion detection is on.

        Issues the destination skipped before are read again by id (`pending_retry.py`).
        """
        messages = self._read(logger, config, catalog, state)
        # A full refresh re-maps every issue: the writer stamps its own fingerprint then.
        carried = self._fingerprint if reads_issues_incrementally(catalog) else None
        yield from carry_in_issues_states(messages, MAPPING_FINGERPRINT, carried)

    def _read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None,
    ) -> Iterator[AirbyteMessage]:
        messages = report_failures_plainly(super().read(logger, config, catalog, state))
        messages = agile_messages(messages, skipped_parts_for(self.resolved_config.get(RUN_ID)))
        if self._pending_ids and reads_issues_incrementally(catalog):
            read = functools.partial(
                read_issues_by_id, self.resolved_manifest, self.resolved_config
            )
            messages = with_pending_issues(messages, self._pending_ids, read, logger)
        every = self.resolved_config.get("deletion_sweep_every", 1)
        if not DeletionTracker.applies_to(catalog, every):
            yield from messages
            return
        tracker = DeletionTracker(
            self._known,
            every=every,
            sweep=functools.partial(list_issue_ids, self.resolved_manifest, self.resolved_config),
            id_fields=listed_id_fields(self.resolved_manifest, self.resolved_config),
            logger=logger,
            run=self.resolved_config.get(RUN_ID),
        )
        yield from tracker.track(messages)
