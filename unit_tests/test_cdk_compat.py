"""Each airbyte-cdk internal of `cdk_compat`, pinned against the installed CDK.

Every test runs the real CDK through the `cdk_compat` name that relies on it, so a CDK upgrade
that moves or changes the internal fails here. The last tests keep the internals in that module.
"""

import ast
import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from airbyte_cdk.models import (
    AirbyteStateBlob,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
)
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    DeclarativeStream as DeclarativeStreamModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    DefaultErrorHandler as DefaultErrorHandlerModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import (
    HttpResponseFilter,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution
from airbyte_cdk.utils import AirbyteTracedException

import source_jira_port
from source_jira_port.app.stray_output import StrayOutput
from source_jira_port.cdk_compat import (
    RETRY_EXTRA_SLEEP_SECONDS,
    build_component,
    declared_streams,
    failed_with_status,
    is_concurrent_read_failure,
    logged_by_cdk,
    parsed_once,
    resolve_manifest,
    serve_json,
    set_queue_size,
    state_values,
    transformed_config,
    with_default_response_filter,
)
from source_jira_port.config_problems import MANIFEST, shipped_manifest_document

_URL = "https://cdk.example.test"
_LOGGER = logging.getLogger("airbyte.test_cdk_compat")


def _stream(**retriever: Any) -> dict[str, Any]:
    """A declarative stream `items` reading `items` of `GET <_URL>/<config['path']>`."""
    return {
        "type": "DeclarativeStream",
        "name": "items",
        "primary_key": [],
        "schema_loader": {"type": "InlineSchemaLoader", "schema": {"type": "object"}},
        "retriever": {
            "type": "SimpleRetriever",
            "requester": {
                "type": "HttpRequester",
                "url": _URL + "/{{ config['path'] }}",
                "http_method": "GET",
            },
            "record_selector": {
                "type": "RecordSelector",
                "extractor": {"type": "DpathExtractor", "field_path": ["items"]},
            },
            **retriever,
        },
    }


# One record a page, `?page=0`, `?page=1`, ...: the read stops at the first empty page.
_ONE_A_PAGE = {
    "paginator": {
        "type": "DefaultPaginator",
        "pagination_strategy": {"type": "PageIncrement", "page_size": 1, "start_from_page": 0},
        "page_token_option": {
            "type": "RequestOption",
            "inject_into": "request_parameter",
            "field_name": "page",
        },
    }
}


def _source(
    config: Mapping[str, Any], stream: Mapping[str, Any], **spec: Any
) -> ConcurrentDeclarativeSource:
    manifest = {
        "version": "7.39.1",
        "type": "DeclarativeSource",
        "check": {"type": "CheckStream", "stream_names": ["items"]},
        "streams": [stream],
        "spec": {
            "type": "Spec",
            "connection_specification": {"type": "object", "properties": {}},
            **spec,
        },
    }
    return ConcurrentDeclarativeSource(
        source_config=manifest, config=config, catalog=_CATALOG, state=None
    )


_CATALOG: ConfiguredAirbyteCatalog = ConfiguredAirbyteCatalogSerializer.load(
    {
        "streams": [
            {
                "stream": {
                    "name": "items",
                    "json_schema": {"type": "object"},
                    "supported_sync_modes": ["full_refresh"],
                },
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
        ]
    }
)


def _records(stream: Any) -> list[Mapping[str, Any]]:
    assert isinstance(stream, AbstractStream)
    return [record.data for p in stream.generate_partitions() for record in p.read()]


def _paged(requests_mock: Any, path: str, pages: int) -> None:
    def page(request: Any, context: Any) -> dict[str, Any]:
        number = int(request.qs.get("page", ["0"])[0])
        return {"items": [{"id": number}] if number < pages else []}

    requests_mock.get(f"{_URL}/{path}", json=page)


# --- set_queue_size: ConcurrentDeclarativeSource._concurrent_source._queue ----------------------


def test_set_queue_size_bounds_what_the_workers_read_ahead_of_the_consumer(
    requests_mock: Any,
) -> None:
    _paged(requests_mock, "items", pages=60)
    source = _source({"path": "items"}, _stream(**_ONE_A_PAGE))
    set_queue_size(source, 2)
    messages = source.read(_LOGGER, {"path": "items"}, _CATALOG, None)
    first = next(m for m in messages if m.type == Type.RECORD)
    read_ahead = _settled(lambda: requests_mock.call_count)
    records = [first, *(m for m in messages if m.type == Type.RECORD)]
    # With the CDK's 10,000 items, the worker reads all 61 pages while the consumer waits.
    assert read_ahead <= 10
    assert len(records) == 60


def _settled(count: Any, timeout: float = 10.0) -> int:
    """Return `count()` once it has not changed for half a second."""
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < 0.5:
        threading.Event().wait(0.05)
        if count() != last:
            last, since = count(), time.monotonic()
    return int(last)


# --- transformed_config: ConcurrentDeclarativeSource._config ----------------------------------


def test_transformed_config_is_the_transformed_config_the_streams_are_built_from(
    requests_mock: Any,
) -> None:
    _paged(requests_mock, "planned", pages=1)
    rules = {
        "type": "ConfigNormalizationRules",
        "transformations": [
            {
                "type": "ConfigAddFields",
                "fields": [{"type": "AddedFieldDefinition", "path": ["path"], "value": "added"}],
            }
        ],
    }
    source = _source({"given": 1}, _stream(**_ONE_A_PAGE), config_normalization_rules=rules)
    config = transformed_config(source)
    assert config["path"] == "added"
    assert isinstance(config, MutableMapping)
    config["path"] = "planned"  # what windows.plan_issue_windows does before the read
    records = [
        m for m in source.read(_LOGGER, {"given": 1}, _CATALOG, None) if m.type == Type.RECORD
    ]
    assert [r.record.data for r in records if r.record] == [{"id": 0}]
    assert {r.path for r in requests_mock.request_history} == {"/planned"}


# --- build_component: ModelToComponentFactory.create_component ---------------------------------


def test_build_component_builds_a_requester_with_the_config_and_keyword_arguments(
    requests_mock: Any,
) -> None:
    requests_mock.get(f"{_URL}/rest/myself", json={"accountId": "a"})
    definition = {
        "type": "HttpRequester",
        "url": "{{ config['url'] }}/rest/{{ parameters['endpoint'] }}",
        "http_method": "GET",
        "$parameters": {"endpoint": "myself"},
    }
    requester = build_component(
        HttpRequesterModel, definition, {"url": _URL}, name="check", decoder=None
    )
    assert isinstance(requester, HttpRequester)
    assert requester.name == "check"
    response = requester.send_request()
    assert response is not None
    assert response.json() == {"accountId": "a"}


def test_build_component_builds_a_stream_whose_partitions_yield_the_records(
    requests_mock: Any,
) -> None:
    _paged(requests_mock, "ids", pages=3)
    stream = build_component(DeclarativeStreamModel, _stream(**_ONE_A_PAGE), {"path": "ids"})
    assert _records(stream) == [{"id": 0}, {"id": 1}, {"id": 2}]


# --- state_values: AirbyteStateBlob's instance attributes -------------------------------------


_STATE = {
    "type": "STREAM",
    "stream": {
        "stream_descriptor": {"name": "issues"},
        "stream_state": {
            "updated": "2024-01-05T10:00:00.000+0000",
            "deletion_detection": {"version": 2, "issues": "eJw="},
            "pending_retry": ["10001"],
            "__ab_no_cursor_state_message": True,
        },
    },
}


def test_state_values_are_every_key_of_the_stream_state_unknown_ones_included() -> None:
    message = AirbyteStateMessageSerializer.load(_STATE)
    assert message.stream is not None
    values = state_values(message.stream.stream_state)
    assert values == _STATE["stream"]["stream_state"]  # type: ignore[index]
    values["changed"] = True
    assert "changed" not in state_values(message.stream.stream_state)  # a copy


def test_a_blob_of_state_values_serializes_to_those_values() -> None:
    message = AirbyteStateMessageSerializer.load(_STATE)
    assert message.stream is not None
    values = {**state_values(message.stream.stream_state), "added": [1, 2]}
    message.stream.stream_state = AirbyteStateBlob(values)
    dumped = AirbyteStateMessageSerializer.dump(message)
    assert dumped["stream"]["stream_state"] == values
    assert state_values(AirbyteStateMessageSerializer.load(dumped).stream.stream_state) == values  # type: ignore[union-attr]


def test_no_stream_state_has_no_values() -> None:
    assert state_values(None) == {}
    assert state_values(AirbyteStateBlob()) == {}


# --- parsed_once: one Response object per page for the error handler and the extractor --------

_PARSED_PAGES: list[str] = []


def _counted_parse(response: requests.Response) -> Any:
    _PARSED_PAGES.append(response.url)
    return orjson.loads(response.content)


@dataclass
class ParseOnceErrorHandler(DefaultErrorHandler):
    """`DefaultErrorHandler` that reads each response's body through `parsed_once`."""

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            parsed_once(response_or_exception, _counted_parse)
        return super().interpret_response(response_or_exception)


@dataclass
class ParseOnceExtractor(RecordExtractor):
    """Extracts `items` from the body that `parsed_once` parsed."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterator[Mapping[str, Any]]:
        yield from parsed_once(response, _counted_parse)["items"]


def test_parsed_once_parses_each_page_once_for_the_error_handler_and_the_extractor(
    requests_mock: Any,
) -> None:
    _PARSED_PAGES.clear()
    _paged(requests_mock, "once", pages=2)
    stream = _stream(
        **_ONE_A_PAGE,
        record_selector={
            "type": "RecordSelector",
            "extractor": {
                "type": "CustomRecordExtractor",
                "class_name": f"{__name__}.ParseOnceExtractor",
            },
        },
    )
    stream["retriever"]["requester"]["error_handler"] = {
        "type": "CustomErrorHandler",
        "class_name": f"{__name__}.ParseOnceErrorHandler",
    }
    records = _records(build_component(DeclarativeStreamModel, stream, {"path": "once"}))
    assert records == [{"id": 0}, {"id": 1}]
    assert len(_PARSED_PAGES) == 3  # two pages and the empty one
    assert len(set(_PARSED_PAGES)) == 3


# --- serve_json: the CDK's filters read the body with `response.json()` -----------------------


def _response(body: bytes, status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = f"{_URL}/search"
    return response


def test_the_cdk_filters_read_the_body_that_serve_json_serves() -> None:
    response = _response(b'{"message": "on the wire"}', 400)
    serve_json(response, {"message": "served"})
    by_predicate = HttpResponseFilter(
        config={},
        parameters={},
        action="FAIL",
        predicate="{{ response['message'] == 'served' }}",
        error_message="{{ response['message'] }}",
    )
    by_text = HttpResponseFilter(
        config={}, parameters={}, action="FAIL", error_message_contains="served"
    )
    resolution = by_predicate.matches(response)
    assert resolution is not None
    assert resolution.error_message == "served"
    assert by_text.matches(response) is not None


# --- CDK error texts and the retry sleep -------------------------------------------------------


def _read_items(requests_mock: Any, status: int) -> AirbyteTracedException:
    requests_mock.get(f"{_URL}/items", status_code=status, json={"errorMessages": ["no"]})
    stream = build_component(DeclarativeStreamModel, _stream(), {"path": "items"})
    with pytest.raises(AirbyteTracedException) as raised:
        _records(stream)
    return raised.value


def test_failed_with_status_recognizes_the_status_of_a_failed_request(requests_mock: Any) -> None:
    error = _read_items(requests_mock, 400)
    assert failed_with_status(error, 400)
    assert not failed_with_status(error, 404)
    assert not failed_with_status(_read_items(requests_mock, 404), 400)


def test_is_concurrent_read_failure_recognizes_the_error_that_ends_a_failed_read(
    requests_mock: Any,
) -> None:
    requests_mock.get(f"{_URL}/items", status_code=404, json={"errorMessages": ["gone"]})
    source = _source({"path": "items"}, _stream())
    with pytest.raises(AirbyteTracedException) as raised:
        list(source.read(_LOGGER, {"path": "items"}, _CATALOG, None))
    assert is_concurrent_read_failure(raised.value)
    assert not is_concurrent_read_failure(AirbyteTracedException(internal_message="other"))


def test_the_cdk_sleeps_a_backoff_plus_retry_extra_sleep_seconds(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_mock.get(
        f"{_URL}/items",
        [{"status_code": 429, "json": {}}, {"status_code": 200, "json": {"items": [{"id": 1}]}}],
    )
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    stream = _stream()
    stream["retriever"]["requester"]["error_handler"] = {
        "type": "DefaultErrorHandler",
        "backoff_strategies": [{"type": "ConstantBackoffStrategy", "backoff_time_in_seconds": 2.5}],
    }
    records = _records(build_component(DeclarativeStreamModel, stream, {"path": "items"}))
    assert records == [{"id": 1}]
    assert [s for s in slept if s] == [2.5 + RETRY_EXTRA_SLEEP_SECONDS]  # `backoff` sleeps 0 too


# --- what the CDK prints and logs: HttpClient's RATE_LIMITED status, the CDK's log records ----


def _read_after_a_429(requests_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    requests_mock.get(
        f"{_URL}/items",
        [{"status_code": 429, "json": {}}, {"status_code": 200, "json": {"items": [{"id": 1}]}}],
    )
    monkeypatch.setattr(time, "sleep", lambda _: None)
    stream = _stream()
    stream["retriever"]["requester"]["error_handler"] = {
        "type": "DefaultErrorHandler",
        "backoff_strategies": [{"type": "ConstantBackoffStrategy", "backoff_time_in_seconds": 1}],
    }
    assert _records(build_component(DeclarativeStreamModel, stream, {"path": "items"})) == [
        {"id": 1}
    ]


def test_the_cdk_prints_a_retried_429_which_stray_output_logs(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # `app/stray_output.py` relies on HttpClient printing a RATE_LIMITED stream status.
    caplog.set_level(logging.INFO, logger="airbyte")
    with contextlib.redirect_stdout(StrayOutput()):
        _read_after_a_429(requests_mock, monkeypatch)
    assert "Stream items: rate_limited, retrying as Jira asks" in caplog.messages


def test_logged_by_cdk_tells_the_cdks_log_records_from_ours(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _read_after_a_429(requests_mock, monkeypatch)
    retried = [r for r in caplog.records if "Rate limit exceeded" in r.getMessage()]
    _LOGGER.warning("ours")
    assert retried
    assert all(logged_by_cdk(record) for record in retried)
    assert not logged_by_cdk(caplog.records[-1])


# --- with_default_response_filter: the factory's create_default_error_handler -----------------


def test_with_default_response_filter_ends_the_filters_as_the_factory_does() -> None:
    declared = {"type": "HttpResponseFilter", "action": "IGNORE", "http_codes": [404]}
    handler = build_component(
        DefaultErrorHandlerModel,
        {"type": "DefaultErrorHandler", "response_filters": [declared]},
        {},
    )
    ours = with_default_response_filter([handler.response_filters[0]], {}, {})
    assert len(ours) == len(handler.response_filters) == 2
    for status in (200, 400, 401, 403, 404, 429, 500, 503):
        response = _response(b"{}", status)
        assert ours[-1].matches(response) == handler.response_filters[-1].matches(response)
    assert [_shape(f) for f in with_default_response_filter(None, {}, {})] == [
        _shape(handler.response_filters[-1])
    ]


def _shape(response_filter: HttpResponseFilter) -> tuple[Any, ...]:
    """What a response filter decides by: its type, action, failure type and conditions."""
    return (
        type(response_filter),
        response_filter.action,
        response_filter.failure_type,
        response_filter.http_codes,
        response_filter.error_message_contains,
        getattr(response_filter.predicate, "condition", response_filter.predicate),
        getattr(response_filter.error_message, "string", response_filter.error_message),
    )


# --- declared_streams: ConcurrentDeclarativeSource._stream_configs -----------------------------


@pytest.mark.parametrize("offered", [True, False])
def test_declared_streams_are_the_streams_a_source_builds(offered: bool) -> None:
    conditional = {
        "type": "ConditionalStreams",
        "condition": "{{ config['offered'] }}",
        "streams": [{**_stream(), "name": "offered"}],
    }
    config = {"path": "items", "offered": offered}
    source = _source(config, _stream())
    manifest = {**source.resolved_manifest, "streams": [_stream(), conditional]}
    source = ConcurrentDeclarativeSource(
        source_config=manifest, config=config, catalog=_CATALOG, state=None
    )
    built = [stream.name for stream in source.streams(config)]
    assert built == ["items", "offered"] if offered else ["items"]
    assert [s["name"] for s in declared_streams(source.resolved_manifest, config)] == built


# --- resolve_manifest: ManifestReferenceResolver, ManifestComponentTransformer ---------------


def test_resolve_manifest_resolves_the_shipped_manifest_as_a_source_does() -> None:
    source = YamlDeclarativeSource(path_to_yaml=str(MANIFEST))
    resolved = resolve_manifest(shipped_manifest_document())
    assert resolved["definitions"] == source.resolved_manifest["definitions"]
    assert resolved["streams"] == source.resolved_manifest["streams"]


# --- the internals stay in cdk_compat.py -------------------------------------------------------

_PACKAGE = Path(source_jira_port.__file__).parent
# Attributes that are CDK internals on any object.
_ALWAYS = {"__dict__", "create_component", "_concurrent_source"}
# Private attributes of the CDK's source: internal unless it is a class's own (`self._queue` in a
# class that does not derive from a CDK class).
_SOURCE_PRIVATE = {"_queue", "_config", "_constructor"}
_FACTORY = "ModelToComponentFactory"
# The manifest parsers (reference resolution, type propagation, the component factory).
_PARSERS = "airbyte_cdk.sources.declarative.parsers"
# The CDK's Jinja evaluation, which the manifest's own components run on its templates.
_INTERPOLATION = "airbyte_cdk.sources.declarative.interpolation"
_INTERNAL_MODULES = (_PARSERS, _INTERPOLATION)


class _InternalsFinder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self._cdk_names: set[str] = set()
        self._cdk_class: list[bool] = []

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] != "airbyte_cdk":
            return
        for alias in node.names:
            self._cdk_names.add(alias.asname or alias.name)
            private = [p for p in [*module.split("."), alias.name] if p.startswith("_")]
            internal = any(module == m or module.startswith(f"{m}.") for m in _INTERNAL_MODULES)
            if internal or alias.name == _FACTORY or any(not p.startswith("__") for p in private):
                self.found.append((node.lineno, f"imports {module}.{alias.name}"))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        roots = {_root(base) for base in node.bases}
        self._cdk_class.append(bool(roots & self._cdk_names))
        self.generic_visit(node)
        self._cdk_class.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        own = (
            isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and bool(self._cdk_class)
            and not self._cdk_class[-1]
        )
        if node.attr in _ALWAYS or (node.attr in _SOURCE_PRIVATE and not own):
            self.found.append((node.lineno, f".{node.attr}"))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == _FACTORY:
            self.found.append((node.lineno, _FACTORY))


def _root(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _internals(source: str) -> list[tuple[int, str]]:
    finder = _InternalsFinder()
    finder.visit(ast.parse(source))
    return finder.found


def test_no_module_but_cdk_compat_touches_cdk_internals() -> None:
    found = [
        f"{path.relative_to(_PACKAGE.parent)}:{line}: {what}"
        for path in sorted(_PACKAGE.rglob("*.py"))
        if path.name != "cdk_compat.py" or path.parent != _PACKAGE
        for line, what in _internals(path.read_text())
    ]
    assert found == [], "CDK internals outside source_jira_port/cdk_compat.py:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("values = dict(blob.__dict__)", 1),
        ("self._concurrent_source._queue.maxsize = 1", 1),
        (
            "from airbyte_cdk.sources.declarative.yaml_declarative_source import "
            "YamlDeclarativeSource\n\nclass S(YamlDeclarativeSource):\n    def f(self):\n"
            "        return self._config",
            5,
        ),
        ("def f(source):\n    return source._constructor", 2),
        ("handler = factory.create_component(Model, {}, {})", 1),
        ("from airbyte_cdk.sources.declarative.parsers import ModelToComponentFactory", 1),
        ("from airbyte_cdk.sources.streams.http.http_client import _sleep", 1),
        (
            "from airbyte_cdk.sources.declarative.interpolation.interpolated_boolean import (\n"
            "    InterpolatedBoolean,\n)",
            1,
        ),
    ],
)
def test_the_scan_finds_each_internal(source: str, line: int) -> None:
    assert line in [found_line for found_line, _ in _internals(source)]


def test_the_scan_leaves_a_class_its_own_private_attributes() -> None:
    source = "class Worker:\n    def f(self):\n        return self._queue, self._config"
    assert _internals(source) == []
