"""The Jira source: manifest.yaml, plus a check that proves the credentials and projects."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils import AirbyteTracedException

from source_jira_port.access import verify_access

MANIFEST = Path(__file__).with_name("manifest.yaml")


class SourceJiraPort(YamlDeclarativeSource):
    """Airbyte source for Jira Cloud and Jira Server / Data Center.

    Config, catalog and state go to the constructor: the concurrent CDK reads them there.
    """

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
    ) -> None:
        super().__init__(path_to_yaml=str(MANIFEST), catalog=catalog, config=config, state=state)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials (`/myself`) and each configured project, then read projects.

        Jira answers many endpoints anonymously with 200 and empty results, so reading a stream
        alone proves nothing about the credentials.
        """
        try:
            verify_access(self.resolved_manifest, self._config, self._constructor)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return super().check(logger, config)
