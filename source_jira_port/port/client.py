"""PortClient: Port's token, blueprint and entity endpoints (no jq, no Airbyte)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from source_jira_port.port.config import EU_BASE_URL, US_BASE_URL
from source_jira_port.port.limits import MAX_DELETE_IDS, MAX_REQUEST_BYTES
from source_jira_port.port.transport import (
    PortApiError,
    RetryingTransport,
    detail_text,
    encode_json,
    error_text,
    is_transient,
)

_SEARCH_PAGE_SIZE = 1000
_ENVELOPE_BYTES = len(b'{"entities":[]}')
# Refresh before `expiresIn` runs out so a request never carries a token that expires in flight.
_TOKEN_LIFETIME_USED = 0.9
_REGION_HINT = (
    "Check port_client_id and port_client_secret, and that port_base_url is your organization's "
    f"region: EU {EU_BASE_URL}, US {US_BASE_URL}."
)

logger = logging.getLogger("airbyte")


class PortAuthError(PortApiError):
    """Port refused the credentials or the token (a configuration problem)."""


@dataclasses.dataclass(frozen=True)
class EntityError:
    """One entity of a bulk request that Port rejected; `details` is Port's detail, as text."""

    index: int
    identifier: str
    status_code: int
    error: str
    message: str
    details: str = ""


class BulkResult(list[EntityError]):
    """One bulk upsert: the entities Port rejected (the list) and the indexes Port created.

    An accepted entity whose index is not in `created` already existed and was updated.
    """

    def __init__(self, errors: Iterable[EntityError] = (), created: Iterable[int] = ()) -> None:
        super().__init__(errors)
        self.created = frozenset(created)


def bulk_chunks(entities: Sequence[Mapping[str, Any]], max_count: int) -> list[range]:
    """Split into consecutive index ranges of <= max_count entities and <= 1 MiB per request."""
    chunks: list[range] = []
    start, size = 0, _ENVELOPE_BYTES
    for index, entity in enumerate(entities):
        entity_size = len(encode_json(entity)) + 1  # the separating comma
        if index > start and (index - start == max_count or size + entity_size > MAX_REQUEST_BYTES):
            chunks.append(range(start, index))
            start, size = index, _ENVELOPE_BYTES
        size += entity_size
    if start < len(entities):
        chunks.append(range(start, len(entities)))
    return chunks


class PortClient:
    """Thread-safe Port API client holding one token, refreshed on expiry or on a 401."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = RetryingTransport(
            base_url, max_attempts=max_attempts, sleep=sleep, clock=clock
        )
        self._credentials = {"clientId": client_id, "clientSecret": client_secret}
        self._clock = clock
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0

    def __enter__(self) -> PortClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._transport.close()

    def authenticate(self) -> None:
        """Fetch a token now; raises `PortAuthError` with an actionable message."""
        with self._token_lock:
            self._fetch_token()

    def get_blueprint(self, identifier: str) -> dict[str, Any] | None:
        """Return the blueprint, or None when Port does not have it."""
        response = self._call("GET", f"/v1/blueprints/{_segment(identifier)}", allow=(404,))
        return None if response.status_code == 404 else dict(response.json()["blueprint"])

    def create_blueprint(self, blueprint: Mapping[str, Any]) -> dict[str, Any]:
        """Create a blueprint and return it as Port stored it."""
        return dict(self._call("POST", "/v1/blueprints", body=blueprint).json()["blueprint"])

    def patch_blueprint(self, identifier: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Update some top-level fields of a blueprint and return it."""
        path = f"/v1/blueprints/{_segment(identifier)}"
        return dict(self._call("PATCH", path, body=changes).json()["blueprint"])

    def upsert_entities(
        self,
        blueprint: str,
        entities: Sequence[Mapping[str, Any]],
        *,
        merge: bool,
        create_missing_related_entities: bool,
    ) -> BulkResult:
        """Upsert one bulk request (`bulk_chunks`); return what Port rejected and created."""
        params = {"upsert": "true", "merge": _flag(merge)}
        if create_missing_related_entities:
            params["create_missing_related_entities"] = "true"
        response = self._call(
            "POST",
            f"/v1/blueprints/{_segment(blueprint)}/entities/bulk",
            params=params,
            body={"entities": list(entities)},
        )
        payload = response.json()
        errors = (
            EntityError(
                index=int(error["index"]),
                identifier=str(error.get("identifier")),
                status_code=int(error.get("statusCode", response.status_code)),
                error=str(error.get("error", "")),
                message=str(error.get("message", "")),
                details=detail_text(error.get("details")),
            )
            for error in payload.get("errors", [])
        )
        created = (
            int(entity["index"]) for entity in payload.get("entities", []) if entity.get("created")
        )
        return BulkResult(errors, created)

    def list_identifiers(self, blueprint: str) -> list[str]:
        """Return the identifiers of all entities of `blueprint` (paginated search)."""
        path = f"/v1/blueprints/{_segment(blueprint)}/entities/search"
        body: dict[str, Any] = {"include": ["$identifier"], "limit": _SEARCH_PAGE_SIZE}
        identifiers: list[str] = []
        while True:
            page = self._call("POST", path, body=body).json()
            identifiers.extend(entity["identifier"] for entity in page.get("entities", []))
            if not page.get("next"):
                return identifiers
            body = {**body, "from": page["next"]}

    def delete_entities(
        self, blueprint: str, identifiers: Sequence[str], *, delete_dependents: bool
    ) -> None:
        """Delete entities of one blueprint, in bulk requests; ones Port does not have are skipped.

        Port documents no answer for unknown identifiers in a bulk delete, so a 404 there is
        retried one entity at a time, where 404 means already gone (as Port's Ocean reads it).
        """
        path = f"/v1/blueprints/{_segment(blueprint)}/bulk/entities/delete"
        params = {"delete_dependents": _flag(delete_dependents)}
        for start in range(0, len(identifiers), MAX_DELETE_IDS):
            chunk = list(identifiers[start : start + MAX_DELETE_IDS])
            body = {"entities": chunk}
            response = self._call("POST", path, params=params, body=body, allow=[404])
            if response.status_code != 404:
                continue
            for identifier in chunk:
                one = f"/v1/blueprints/{_segment(blueprint)}/entities/{_segment(identifier)}"
                self._call("DELETE", one, params=params, allow=[404])

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        allow: Collection[int] = (),
    ) -> requests.Response:
        refreshed = False
        while True:
            token = self._current_token()
            headers = {"Authorization": f"Bearer {token}"}
            response = self._transport.send(method, path, params=params, body=body, headers=headers)
            if response.status_code != 401:
                break
            if refreshed:
                raise PortAuthError(f"Port rejected a fresh access token on {method} {path}.", 401)
            self._invalidate_token(token)
            refreshed = True
        if response.ok or response.status_code in allow:
            return response
        raise PortApiError(
            f"Port answered HTTP {response.status_code} on {method} {path}: {error_text(response)}",
            response.status_code,
        )

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_expires_at:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _invalidate_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    def _fetch_token(self) -> None:
        path = "/v1/auth/access_token"
        response = self._transport.send("POST", path, body=self._credentials)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.ok and isinstance(payload, dict) and payload.get("accessToken"):
            self._token = str(payload["accessToken"])
            lifetime = float(payload.get("expiresIn", 3600)) * _TOKEN_LIFETIME_USED
            self._token_expires_at = self._clock() + lifetime
            logger.info("Obtained a Port access token (will refresh it in %.0fs)", lifetime)
            return
        status = response.status_code
        if is_transient(status):
            raise PortApiError(
                f"Port answered HTTP {status} on {path}: {error_text(response)}", status
            )
        if not isinstance(payload, dict) or "ok" not in payload:
            raise PortAuthError(
                f"{self._transport.base_url} does not look like Port's API (HTTP {status} without "
                f"a Port JSON body on {path}). {_REGION_HINT}",
                status,
            )
        raise PortAuthError(
            f"Port at {self._transport.base_url} did not accept the credentials (HTTP {status}: "
            f"{error_text(response)}). {_REGION_HINT}",
            status,
        )


def _segment(value: str) -> str:
    return quote(value, safe="")


def _flag(value: bool) -> str:
    return "true" if value else "false"
