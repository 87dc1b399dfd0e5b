"""Command line entry point: `source-jira-port spec|check|discover|read`."""

from __future__ import annotations

import sys

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.gc_tuning import tune_garbage_collector
from source_jira_port.source import SourceJiraPort
from source_jira_port.version import exit_if_version_asked


def _create_source(args: list[str]) -> SourceJiraPort:
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceJiraPort(
        catalog=SourceJiraPort.read_catalog(catalog_path) if catalog_path else None,
        config=SourceJiraPort.read_config(config_path) if config_path else None,
        state=SourceJiraPort.read_state(state_path) if state_path else None,
    )


def _emit(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def run() -> None:
    """Run the source with the command line arguments, as the Airbyte protocol expects."""
    args = sys.argv[1:]
    exit_if_version_asked("source-jira-port", args)
    try:
        source = _create_source(args)
    except AirbyteTracedException as error:
        # The config is checked and the site resolved while the source is built. Report like
        # `launch` would: `check` answers a config error with a FAILED status alone (exit 0),
        # as it does for every other cause; other commands fail with the error.
        status = error.as_connection_status_message()
        if status and AirbyteEntrypoint.parse_args(args).command == "check":
            _emit(status)
            sys.exit(0)
        _emit(error.as_airbyte_message())
        sys.exit(1)
    tune_garbage_collector()
    launch(source, args)


if __name__ == "__main__":
    run()
