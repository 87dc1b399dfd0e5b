"""DestinationPort: the Airbyte destination that writes Jira records to Port as entities."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    DestinationSyncMode,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira_port.port.apply import EntityApplier
from source_jira_port.port.blueprints import BlueprintSetupError, plan_blueprints
from source_jira_port.port.client import PortAuthError, PortClient
from source_jira_port.port.config import SPEC, PortSettings
from source_jira_port.port.fingerprint import FingerprintStamp, stream_fingerprints
from source_jira_port.port.mapping import EntityMapper, MappingError, load_app_config
from source_jira_port.port.preflight import check_mapping_fits
from source_jira_port.port.stats import WriteStats
from source_jira_port.port.transport import PortApiError, is_transient
from source_jira_port.port.writer import PortWriter

_CONFIG_ERRORS = (MappingError, BlueprintSetupError, PortAuthError)


class DestinationPort(Destination):
    """Maps Jira records to Port entities with port-app-config jq and upserts them in bulk."""

    # PortSettings.from_config validates against the same spec, without echoing secret values.
    check_config_against_spec = False

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """Return the connector specification (`config.SPEC`)."""
        return ConnectorSpecification(
            documentationUrl="https://docs.port.io/api-reference/port-api",
            connectionSpecification=SPEC,
            supportsIncremental=True,
            supported_destination_sync_modes=[
                DestinationSyncMode.overwrite,
                DestinationSyncMode.append,
                DestinationSyncMode.append_dedup,
            ],
        )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Get a token and verify the mapping's blueprints exist or can be created, and fit it."""
        try:
            settings = PortSettings.from_config(config)
            mapper = EntityMapper(load_app_config(settings.mapping))
            with _client(settings) as client:
                client.authenticate()
                plan = plan_blueprints(
                    client,
                    mapper.blueprints(),
                    create_missing=settings.create_missing_blueprints,
                )
                check_mapping_fits(client, mapper.app_config.resources, plan)
        except (AirbyteTracedException, *_CONFIG_ERRORS, PortApiError) as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=str(error))
        if plan.to_create:
            missing = ", ".join(plan.to_create)
            logger.info("Blueprints %s will be created on the first write", missing)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        """Write the records to Port; echo each STATE once its records are written."""
        logger = logging.getLogger("airbyte")
        settings = PortSettings.from_config(config)
        try:
            with open_writer(settings, configured_catalog, logger) as writer:
                _warn_about_resource_jql(writer.jql_resources(), logger)
                yield from writer.write(input_messages)
        except _CONFIG_ERRORS as error:
            raise AirbyteTracedException(
                message=str(error), failure_type=FailureType.config_error, exception=error
            ) from error
        except PortApiError as error:
            transient = is_transient(error.status_code)
            raise AirbyteTracedException(
                message=str(error),
                failure_type=FailureType.transient_error if transient else FailureType.system_error,
                exception=error,
            ) from error


@contextlib.contextmanager
def open_writer(
    settings: PortSettings,
    catalog: ConfiguredAirbyteCatalog,
    logger: logging.Logger,
    stats: WriteStats | None = None,
    *,
    warn_on_mapping_change: bool = True,
) -> Iterator[PortWriter]:
    """Connect to Port, ensure the mapping's blueprints exist and fit it, and yield a writer.

    The preflight (`EntityApplier.prepare`) runs before any blueprint is created or record read.
    The writer stamps the STATEs of incremental streams with the mapping's fingerprints
    (`fingerprint.py`) and, with
    `warn_on_mapping_change`, warns when a stream's saved one differs.

    Raises `MappingError`, `BlueprintSetupError`, `PortAuthError` (configuration problems) and
    `PortApiError` as they are; `DestinationPort.write` turns them into Airbyte errors.
    """
    mapper = EntityMapper(load_app_config(settings.mapping))
    streams = frozenset(stream.stream.name for stream in catalog.streams)
    with _client(settings) as client:
        applier = EntityApplier.prepare(client, mapper, streams, settings=settings, logger=logger)
        # Full refresh streams are re-mapped in full on every sync: they need no fingerprint.
        incremental = [
            s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.incremental
        ]
        fingerprints = stream_fingerprints(
            mapper.app_config, applier.validator.blueprints, incremental
        )
        stamp = FingerprintStamp(fingerprints, logger, warn=warn_on_mapping_change)
        yield PortWriter(
            applier,
            settings=settings,
            catalog=catalog,
            logger=logger,
            stats=stats,
            fingerprints=stamp,
        )


def _warn_about_resource_jql(indexes: list[int], logger: logging.Logger) -> None:
    """Warn that a destination, which cannot run JQL, maps every issue it gets."""
    if indexes:
        logger.warning(
            "The mapping's issue resources %s have a selector.jql, which only jira-port sync "
            "applies: this destination maps every issue the source sends with every issue "
            "resource. Put the JQL in the source's jql option, or use one resource without one.",
            ", ".join(f"resources[{index}]" for index in indexes),
        )


def _client(settings: PortSettings) -> PortClient:
    return PortClient(settings.base_url, settings.client_id, settings.client_secret)
