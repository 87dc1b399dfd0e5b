"""One sync in one process: the Jira source's messages go straight into the Port writer.

Catalog: the streams the mapping has resources for (`mapped_streams`), in the order `projects`,
`users`, `teams`, `boards`, `sprints`, `epics`, `releases`, `components`, `issues`, `worklogs`,
so the users, projects, sprints and releases the issues relate to are in Port as themselves, not
as bare placeholders. `issues` and `worklogs` are incremental / append_dedup from the saved
state; the others (`teams` where the site offers it: `teams.py`) are full refresh / overwrite.
`--full-refresh` reads all in full refresh / overwrite, ignores the saved state, and turns on
deleting the entities Jira no longer has for that run, even when the Port section's
`delete_missing_entities` is false (that setting governs ordinary runs, where only the
full-refresh streams are overwritten). The deletion threshold and the skipped-record rule still
apply.

A stream whose mapping changed since its state was saved is re-read in full (`remap.py`).

Every STATE the writer confirms (its records are in Port) is saved at once, so a failed or
interrupted sync resumes from its last confirmed checkpoint. A stream's STATEs before the first
one that follows a record of this run record no progress (a sync that fails on a wrong password
may still emit one): they are held back and saved only when the sync ends, so a failure before
the first real checkpoint leaves the state file as it was, or absent.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
    SyncMode,
    Type,
)
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.app.config import SyncJob
from source_jira_port.app.dryrun import DryRun, OutputFormat
from source_jira_port.app.progress import Reporter, Summary, SyncProgress
from source_jira_port.app.remap import RemapPlan, plan_remap
from source_jira_port.app.state import StateFile, StateFileError
from source_jira_port.app.stray_output import LOG_LEVELS
from source_jira_port.cdk_compat import state_values
from source_jira_port.issue_query import RESOURCE_JQL
from source_jira_port.jira_client import resolve_deployment
from source_jira_port.jira_site import api_base
from source_jira_port.port.blueprints import BlueprintSetupError
from source_jira_port.port.client import PortAuthError
from source_jira_port.port.destination import open_writer
from source_jira_port.port.fingerprint import with_fingerprint
from source_jira_port.port.mapping import (
    EntityMapper,
    MappingError,
    PortAppConfig,
    load_app_config,
)
from source_jira_port.port.stats import WriteStats
from source_jira_port.port.transport import PortApiError
from source_jira_port.rate_limit import RUN_ID, config_failure_for
from source_jira_port.source import SourceJiraPort
from source_jira_port.stream_names import (
    BACKLOG,
    BOARDS,
    COMPONENTS,
    EPICS,
    ISSUES,
    PROJECTS,
    RELEASES,
    SPRINTS,
    TEAMS,
    USERS,
    WORKLOGS,
)
from source_jira_port.teams import teams_unavailable_reason

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SKIPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
# What a Jira or Port problem raises; anything else is a bug and reaches main.
_SYNC_ERRORS = (AirbyteTracedException, PortApiError, BlueprintSetupError, MappingError, OSError)
# The Port writer's configuration problems (credentials, region, blueprints, mapping).
_PORT_CONFIG_ERRORS = (PortAuthError, BlueprintSetupError, MappingError)

logger = logging.getLogger("airbyte")


@dataclasses.dataclass(frozen=True)
class SyncOptions:
    """Command line choices for one sync."""

    full_refresh: bool = False
    dry_run: bool = False
    dry_run_format: OutputFormat = "jsonl"


class SourceError(Exception):
    """The Jira source failed: the first error it reported, or its first config error."""

    def __init__(self, message: str, failure_type: FailureType | None) -> None:
        super().__init__(message)
        self.failure_type = failure_type


# The order a sync reads its streams in: the people and projects issues relate to come first.
_READ_ORDER = (
    *(PROJECTS, USERS, TEAMS, BOARDS, SPRINTS, EPICS, RELEASES, COMPONENTS, ISSUES, WORKLOGS),
    BACKLOG,
)
# Incremental streams (unless --full-refresh) and their cursor fields.
_CURSORS = {ISSUES: "updated", WORKLOGS: "updatedTime"}


def default_catalog(
    *, full_refresh: bool, streams: Iterable[str] = (PROJECTS, USERS, ISSUES)
) -> ConfiguredAirbyteCatalog:
    """Return the catalog of a sync of `streams` (see the module docstring), in read order."""

    def entry(name: str) -> dict[str, Any]:
        incremental = name in _CURSORS and not full_refresh
        return {
            "stream": {
                "name": name,
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"],
            },
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append_dedup" if incremental else "overwrite",
            "cursor_field": [_CURSORS[name]] if incremental else None,
        }

    wanted = set(streams)
    return ConfiguredAirbyteCatalogSerializer.load(
        {"streams": [entry(name) for name in _READ_ORDER if name in wanted]}
    )


def mapped_streams(
    app_config: PortAppConfig, jira: Mapping[str, Any], *, built_in: bool
) -> frozenset[str]:
    """Return the streams a sync reads: those the mapping has resources for.

    A `teams` resource applies where the site offers teams (Jira Cloud with
    `atlassian_organization_id`); elsewhere a mapping the user wrote gets a warning naming the
    resource and how to enable teams (the built-in one's `teams` resource is left out quietly:
    the source logs why).
    """
    streams = EntityMapper(app_config).kinds()
    reason = teams_unavailable_reason(jira, jira["deployment"]) if TEAMS in streams else None
    if reason is None:
        return streams
    if not built_in:
        logger.warning(
            "port.mapping has a resource of kind %s (Port's team) that maps nothing on this "
            "site. %s Or remove that resource from the mapping.",
            TEAMS,
            reason,
        )
    return streams - {TEAMS}


def sync(job: SyncJob, options: SyncOptions, reporter: Reporter, out: TextIO = sys.stdout) -> int:
    """Run one sync, report it, and return the exit code: 0, 1 (failed), 2, 3 or 130.

    2 is any configuration problem, whoever finds it: the sync.yaml or state file, or an error
    the source or the writer reports as a `config_error` (credentials, JQL, project, URL,
    dates, Port's credentials, an entity Port rejects). 3: the sync completed but skipped
    records (`on_invalid_record: skip`), or a dry run found records that would fail.
    """
    run = _Sync(job, options, reporter)
    try:
        run.execute(out)
    except KeyboardInterrupt:
        return run.finish("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        raise  # the reader of the dry run's output left: main ends quietly
    except StateFileError as error:
        reporter.error(str(error))
        return EXIT_USAGE
    except (SourceError, *_SYNC_ERRORS) as error:
        message = error.message if isinstance(error, AirbyteTracedException) else None
        message = message or str(error) or type(error).__name__
        reporter.error(message)
        return run.finish("failed", failure_exit_code(error), message)
    if run.progress.failed() or run.progress.stats.pending_retry:
        return run.finish("partial", EXIT_SKIPPED)
    return run.finish("succeeded", EXIT_OK)


def failure_exit_code(error: Exception) -> int:
    """Return 2 for a configuration problem (see `sync`), else 1."""
    if isinstance(error, _PORT_CONFIG_ERRORS):
        return EXIT_USAGE
    if isinstance(error, SourceError | AirbyteTracedException):
        return EXIT_USAGE if error.failure_type == FailureType.config_error else EXIT_FAILED
    return EXIT_FAILED


class _Sync:
    def __init__(self, job: SyncJob, options: SyncOptions, reporter: Reporter) -> None:
        self.job = job
        self.options = options
        self.reporter = reporter
        self.state = StateFile(job.state_path)
        self.progress = SyncProgress(WriteStats(), reporter.clock(), dry_run=options.dry_run)
        self._source_error: SourceError | None = None
        self._had_state = job.state_path.exists()
        self._progressed: set[str] = set()  # streams with a record before a confirmed STATE
        self._held: dict[str, AirbyteStateMessage] = {}  # their STATEs before that, by stream
        self._remap = RemapPlan([], {})

    def execute(self, out: TextIO) -> None:
        saved = [] if self.options.full_refresh else self.state.load()
        app_config = load_app_config(self.job.port.mapping)
        jira = {**_resolve_site(self.job.jira), RESOURCE_JQL: _resource_jql(app_config)}
        catalog = default_catalog(
            full_refresh=self.options.full_refresh,
            streams=mapped_streams(app_config, jira, built_in=self.job.port.mapping is None),
        )
        if self.options.dry_run:
            mapper = EntityMapper(app_config)
            messages = self._read(jira, catalog, saved, mapper.select_by_jql)
            DryRun(mapper, self.progress, out, self.options.dry_run_format).run(messages)
            return
        settings = self.job.port
        if self.options.full_refresh:
            settings = dataclasses.replace(settings, delete_missing_entities=True)
        with open_writer(
            settings, catalog, logger, self.progress.stats, warn_on_mapping_change=False
        ) as writer:
            fingerprints = writer.mapping_fingerprints
            self._remap = plan_remap(saved, fingerprints, _incremental_streams(catalog))
            reason = self._remap.reason()
            if reason:
                logger.warning(reason)
            messages = self._read(jira, catalog, self._remap.state, writer.select_by_jql)
            for confirmed in writer.write(messages):
                if confirmed.state is not None and confirmed.state.stream is not None:
                    self._checkpoint(confirmed.state)
        for state in self._held.values():  # the sync is complete: these are its end state
            self._save(state)
        for stream in self._remap.streams:  # every record re-mapped is in Port
            latest = self.state.latest(stream)
            if latest is not None:
                self.state.save(with_fingerprint(latest, fingerprints.get(stream)))

    def _read(
        self,
        jira: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        saved: list[AirbyteStateMessage],
        select_by_jql: Callable[[Mapping[int, frozenset[str]], frozenset[str] | None], None],
    ) -> Iterator[AirbyteMessage]:
        """Start the source from `saved` and announce the sync; return its observed messages.

        Before the read, `select_by_jql` gets the issues each resource's `selector.jql` matches,
        and the issues written before (unknown for a full refresh, which ignores the state).
        """
        cursor = _issues_cursor(saved)
        source = SourceJiraPort(catalog, jira, saved)
        self.progress.expected_issues = source.estimate_issues(cursor, logger)
        if config_failure_for(source.resolved_config.get(RUN_ID)).message is None:
            known = None if self.options.full_refresh else source.known_issue_ids()
            select_by_jql(source.issue_ids_matching(cursor), known)
        self.reporter.start(self.progress, self._description(jira, cursor))
        return self._observe(source.read(logger, jira, catalog, saved))

    def finish(self, status: str, exit_code: int, error: str | None = None) -> int:
        duration = self.reporter.clock() - self.progress.started
        summary = Summary(
            status,
            exit_code,
            duration,
            self.progress,
            self.job.state_path,
            error,
            state_saved=self._had_state or bool(self._progressed),
        )
        self.reporter.finish(summary)
        return exit_code

    def _checkpoint(self, state: AirbyteStateMessage) -> None:
        """Save a confirmed STATE, or hold it while its stream has had no record this run."""
        assert state.stream is not None
        name = str(state.stream.stream_descriptor.name)
        if state.destinationStats is not None and state.destinationStats.recordCount:
            self._progressed.add(name)
        if name in self._progressed:
            self._held.pop(name, None)
            self._save(state)
        else:
            self._held[name] = state

    def _save(self, state: AirbyteStateMessage) -> None:
        state = self._remap.in_progress(state)
        assert state.stream is not None
        self.state.save(state)
        value = state_values(state.stream.stream_state)
        self.reporter.checkpoint(state.stream.stream_descriptor.name, value)

    def _observe(self, messages: Iterable[AirbyteMessage]) -> Iterator[AirbyteMessage]:
        """Count records, log the source's LOG messages and keep its first error."""
        try:
            for message in messages:
                if message.type == Type.RECORD and message.record is not None:
                    self.progress.add_record(
                        message.record.stream, self.reporter.clock(), message.record.data
                    )
                    self.reporter.tick()
                elif message.type == Type.LOG and message.log is not None:
                    level = LOG_LEVELS.get(message.log.level.value, logging.INFO)
                    logger.log(level, message.log.message)
                    continue
                elif message.type == Type.TRACE and message.trace and message.trace.error:
                    self._keep_error(message.trace.error.message, message.trace.error.failure_type)
                yield message
        except AirbyteTracedException as error:
            # A failed concurrent read ends with a config_error of its own, whatever the cause:
            # the errors the streams reported come first.
            raise self._source_error or SourceError(
                error.message or str(error), error.failure_type
            ) from error

    def _keep_error(self, message: str, failure_type: FailureType | None) -> None:
        """Keep the source's first error, or its first config error (which decides the exit)."""
        kept = self._source_error
        if kept is None or (
            kept.failure_type != FailureType.config_error
            and failure_type == FailureType.config_error
        ):
            self._source_error = SourceError(message, failure_type)

    def _description(self, jira: Mapping[str, Any], cursor: str | None) -> str:
        if self.options.dry_run:
            kind = "Dry run"
        elif self.options.full_refresh:
            kind = "Full refresh"
        else:
            kind = "Incremental sync" if cursor else "First sync"
        text = (
            f"{kind} from Jira {jira['deployment']} at {api_base(jira)} into Port at "
            f"{self.job.port.base_url}"
        )
        if cursor:
            text += f", issues updated since {cursor}"
        expected = self.progress.expected_issues
        if expected is None:
            return f"{text}."
        return f"{text}; Jira counts {expected:,} issue{'' if expected == 1 else 's'} to read."


def _resource_jql(app_config: PortAppConfig) -> dict[str, str | None]:
    """Return the `selector.jql` of each issue resource, by resource index (`RESOURCE_JQL`)."""
    return {str(i): r.jql for i, r in enumerate(app_config.resources) if r.kind == ISSUES}


def _incremental_streams(catalog: ConfiguredAirbyteCatalog) -> frozenset[str]:
    return frozenset(s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.incremental)


def _issues_cursor(saved: list[AirbyteStateMessage]) -> str | None:
    """Return the issues cursor of the state the source reads from, or None."""
    for message in saved:
        if message.stream is not None and message.stream.stream_descriptor.name == ISSUES:
            cursor = state_values(message.stream.stream_state).get("updated")
            return cursor if isinstance(cursor, str) else None
    return None


def _resolve_site(jira: Mapping[str, Any]) -> dict[str, Any]:
    """Return the config with `deployment` decided once (`auto` asks Jira)."""
    return {**jira, "deployment": resolve_deployment(jira, api_base(jira))}
