"""Every airbyte-cdk internal the connector relies on, one function or constant each.

The rest of the package uses only these names and the CDK's public API. Each one says which
internal it reaches and why; `unit_tests/test_cdk_compat.py` pins each against the installed CDK,
so a CDK upgrade that changes one fails a test instead of the connector.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import airbyte_cdk
import requests
from airbyte_cdk.models import AirbyteStateBlob
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
)
from airbyte_cdk.sources.declarative.interpolation.interpolated_boolean import (
    InterpolatedBoolean,
)
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import (
    ManifestComponentTransformer,
)
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import (
    ManifestReferenceResolver,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import (
    ModelToComponentFactory,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import (
    HttpResponseFilter,
)
from airbyte_cdk.utils import AirbyteTracedException
from pydantic.v1 import BaseModel

# The CDK sleeps a backoff strategy's wait plus this (`rate_limiting.user_defined_backoff_handler`).
RETRY_EXTRA_SLEEP_SECONDS = 1.0
# `internal_message` of the error that ends a concurrent read after a stream failed
# (`ConcurrentReadProcessor.is_done`).
_CONCURRENT_READ_FAILURE = "Concurrent read failure"
# Where `parsed_once` keeps a response's parse.
_PARSED = "_source_jira_port_parsed"
_MISSING = object()
# Where the CDK's modules are: the log records they emit carry a path under it.
_CDK_DIR = str(Path(airbyte_cdk.__file__).parent)


def build_component(
    model: type[BaseModel], definition: Mapping[str, Any], config: Mapping[str, Any], **kwargs: Any
) -> Any:
    """Build the manifest component `definition` (of pydantic `model` type) with `config`."""
    return ModelToComponentFactory().create_component(model, dict(definition), config, **kwargs)


def resolve_manifest(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return a copy of the manifest `document` with its `$ref`s and component types resolved.

    Internal: the CDK's own preprocessing (`ManifestReferenceResolver`, then
    `ManifestComponentTransformer`), what a declarative source does before it builds anything,
    without building and validating a whole source (0.5 s of CPU).
    """
    resolved = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(dict(document)))
    return ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})


def set_queue_size(source: ConcurrentDeclarativeSource, size: int) -> None:
    """Bound the queue between the read's worker threads and its consumer to `size` items.

    Internal: `ConcurrentDeclarativeSource._concurrent_source._queue`, the one `queue.Queue`
    that carries records, partitions and log messages; the CDK makes it 10,000 items and takes
    no parameter for it. Changing `maxsize` before the read starts bounds what is read ahead.
    """
    source._concurrent_source._queue.maxsize = size


def transformed_config(source: ConcurrentDeclarativeSource) -> Mapping[str, Any]:
    """Return the config as the manifest's config transformations left it.

    Internal: `ConcurrentDeclarativeSource._config`. Only it holds what `ResolveJiraSite` adds
    (`api_base`, `resolved_deployment`, ...), and the streams are built from this very object
    when the read starts, so a key set in it before then reaches the manifest's templates.
    """
    config: Mapping[str, Any] = source._config
    return config


def state_values(blob: AirbyteStateBlob | None) -> dict[str, Any]:
    """Return a copy of every key of a stream state blob (none for no blob).

    Internal: `AirbyteStateBlob` keeps the state's keys, unknown ones included, as its instance
    attributes, and its serializer writes exactly those; it has no public mapping view.
    """
    return dict(blob.__dict__) if blob is not None else {}


def parsed_once(response: requests.Response, parse: Callable[[requests.Response], Any]) -> Any:
    """Return `parse(response)`, computed on the first call for `response` and kept on it.

    Relies on the CDK handing the same `requests.Response` object to a page's error handler,
    decoder and record extractor (`HttpClient.send_request`, then the retriever), so one parse
    of a page serves them all.
    """
    cached = response.__dict__.get(_PARSED, _MISSING)
    if cached is _MISSING:
        cached = parse(response)
        response.__dict__[_PARSED] = cached
    return cached


def serve_json(response: requests.Response, body: Any) -> None:
    """Make `response.json()` return `body`, parsed before, instead of parsing the body again.

    Internal: the CDK's `HttpResponseFilter` (`predicate`, `error_message`),
    `JsonErrorMessageParser` (`error_message_contains`) and `HttpClient`'s error messages read
    the body by calling `response.json()` on the response; an instance attribute shadows
    `requests`' method for them.
    """
    response.__dict__["json"] = _ParsedBody(body)


class _ParsedBody:
    """A stand-in for `Response.json` that returns a body parsed before.

    It holds the body, not the response: a closure over the response would make a reference
    cycle that keeps every page (raw and parsed) alive until the garbage collector runs.
    """

    def __init__(self, body: Any) -> None:
        self._body = body

    def __call__(self, **_: Any) -> Any:
        return self._body


def is_concurrent_read_failure(error: AirbyteTracedException) -> bool:
    """Whether `error` is the CDK's closing error of a concurrent read in which a stream failed.

    Internal: its `internal_message`, "Concurrent read failure" (`ConcurrentReadProcessor`);
    the error has no type or attribute of its own.
    """
    return error.internal_message == _CONCURRENT_READ_FAILURE


def failed_with_status(error: AirbyteTracedException, status: int) -> bool:
    """Whether `error` is the CDK's error for a request that failed with HTTP `status`.

    Internal: the text of `HttpClient`'s `internal_message` for a response the error handler
    fails ("... failed with status code '400' and error message: ..."); the error keeps no
    status code of its own.
    """
    return f"failed with status code '{status}'" in (error.internal_message or "")


def declared_streams(
    manifest: Mapping[str, Any], config: Mapping[str, Any]
) -> Iterator[Mapping[str, Any]]:
    """Yield the stream definitions of the resolved `manifest` that a source with `config` builds.

    Internal: how `ConcurrentDeclarativeSource._stream_configs` reads `streams`: a
    `ConditionalStreams` block's streams count when its `condition`, evaluated by
    `InterpolatedBoolean` against the config alone, holds; any other entry is a stream.
    """
    for block in manifest["streams"]:
        if block.get("type") != "ConditionalStreams":
            yield block
        elif InterpolatedBoolean(condition=block["condition"], parameters={}).eval(config=config):
            yield from block.get("streams", [])


def with_default_response_filter(
    filters: list[HttpResponseFilter] | None,
    config: Mapping[str, Any],
    parameters: Mapping[str, Any],
) -> list[HttpResponseFilter]:
    """Return `filters` ended by the CDK's default filter, as a declared error handler has them.

    Internal: the factory's `create_default_error_handler` appends an `HttpResponseFilter` with
    no condition (the CDK's default mapping of statuses to actions) to the manifest's filters;
    a custom error handler is built without it.
    """
    return [*(filters or []), HttpResponseFilter(config=config, parameters=parameters or {})]


def logged_by_cdk(record: logging.LogRecord) -> bool:
    """Whether the log `record` was emitted by the CDK's own code (its file is in the CDK).

    Internal: the CDK logs through loggers named like ours ("airbyte"), so only the path of
    the emitting module tells its records apart.
    """
    return record.pathname.startswith(_CDK_DIR)
