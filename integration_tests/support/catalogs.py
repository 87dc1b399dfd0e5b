"""Configured catalogs: for the source's `read` and for the destination's `write`."""

from __future__ import annotations

from typing import Any

from airbyte_cdk.models import ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer

# The incremental streams and their cursor fields.
_CURSOR_FIELDS = {"issues": "updated", "worklogs": "updatedTime"}


def configured_catalog(*streams: str, incremental: bool = False) -> dict[str, Any]:
    """A configured catalog for `streams`; `issues` and `worklogs` are incremental when asked."""
    entries = []
    for name in streams:
        sync_mode = "incremental" if incremental and name in _CURSOR_FIELDS else "full_refresh"
        entries.append(
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": sync_mode,
                "destination_sync_mode": "append_dedup"
                if sync_mode == "incremental"
                else "overwrite",
                "cursor_field": [_CURSOR_FIELDS[name]] if sync_mode == "incremental" else None,
                "primary_key": [["id"]],
            }
        )
    return {"streams": entries}


def catalog(*streams: tuple[str, str]) -> ConfiguredAirbyteCatalog:
    """A configured catalog from (stream name, destination sync mode) pairs."""
    return ConfiguredAirbyteCatalogSerializer.load(catalog_json(*streams))


def catalog_json(*streams: tuple[str, str]) -> dict[str, Any]:
    """The JSON of `catalog(*streams)`."""
    sync_mode = {"overwrite": "full_refresh"}
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": sync_mode.get(mode, "incremental"),
                "destination_sync_mode": mode,
            }
            for name, mode in streams
        ]
    }
