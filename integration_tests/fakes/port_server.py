"""A fake Port API for tests: real HTTP on 127.0.0.1, SQLite storage, Port's rules, faults.

Implements the token, blueprint and entity endpoints the Port destination uses, with Port's
limits (20 entities per bulk, 1 MiB bodies, 1..100 ids per bulk delete), identifier pattern,
property and relation validation, 207 partial results, merge semantics, and injectable faults.

Every entity is checked against its blueprint as Port documents it (docs `setup-blueprint/
properties`, `relate-blueprints`): types, formats (`user`/`email` an email address, `url`,
`date-time`; see `port.formats`), array item types and formats, enums, required properties,
relations (defined, one vs many, required ones present). A violation is 422
`entity_does_not_match_blueprint`. Port's docs do not show that body; this fake puts the generic
message in `message` and the rule broken in `details.errors` (ajv's shape: instancePath, keyword,
params, message), the strictest plausible reading: a client that shows only `message` loses it.

Run standalone with `python -m integration_tests.fakes.port_server`; it prints one JSON line with
the base URL and credentials, serves until SIGINT/SIGTERM, then prints the entity count of each
blueprint as a last JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import secrets
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from integration_tests.fakes.local_server import LocalServer
from source_jira_port.port.formats import FORMAT_NAMES, is_identifier, matches_format

MAX_BODY_BYTES = 1024 * 1024
DOES_NOT_MATCH = "entity_does_not_match_blueprint"
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_BP = r"^/v1/blueprints/(?P<bp>[^/]+)"
Reply = tuple[int, Any, dict[str, str]]


class PortError(Exception):
    """An error answer (status, Port error code, message, and details when Port gives some)."""

    def __init__(
        self, status: int, error: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.details = status, error, message, details

    def body(self) -> dict[str, Any]:
        """The JSON error body Port answers."""
        body = _error(self.error, self.message)
        if self.details is not None:
            body["details"] = self.details
        return body


@dataclasses.dataclass
class Fault:
    status: int
    path: str
    remaining: int | None
    skip: int
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


class FakePort(LocalServer):
    """The fake Port API; `start()`/`stop()` or use as a context manager (`LocalServer`)."""

    def __init__(
        self,
        client_id: str = "port-client",
        client_secret: str = "port-secret",
        token_ttl: int = 10800,
        latency_ms: int = 0,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.token_ttl = client_id, client_secret, token_ttl
        self.latency_ms = latency_ms
        self.requests: list[LoggedRequest] = []
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE TABLE blueprints (id TEXT PRIMARY KEY, body TEXT)")
        self._db.execute(
            "CREATE TABLE entities (bp TEXT, id TEXT, body TEXT, PRIMARY KEY (bp, id))"
        )
        self._lock = threading.RLock()
        self._tokens: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = [
            ("GET", re.compile(r"^/v1/blueprints$"), self._list_blueprints),
            ("POST", re.compile(r"^/v1/blueprints$"), self._create_blueprint),
            ("GET", re.compile(_BP + "$"), self._get_blueprint),
            ("PATCH", re.compile(_BP + "$"), self._patch_blueprint),
            ("POST", re.compile(_BP + "/entities/bulk$"), self._bulk_upsert),
            ("POST", re.compile(_BP + "/entities/search$"), self._search),
            ("GET", re.compile(_BP + "/entities$"), self._list_entities),
            ("GET", re.compile(_BP + "/entities/(?P<entity_id>[^/]+)$"), self._get_entity),
            ("DELETE", re.compile(_BP + "/entities/(?P<entity_id>[^/]+)$"), self._delete_entity),
            ("POST", re.compile(_BP + "/bulk/entities/delete$"), self._bulk_delete),
        ]

    # -- test helpers --------------------------------------------------------------------------
    def add_blueprint(self, blueprint: dict[str, Any]) -> None:
        body = {"schema": {"properties": {}, "required": []}, "relations": {}, **blueprint}
        self._put("blueprints", body["identifier"], body)

    def blueprint(self, identifier: str) -> dict[str, Any] | None:
        return self._get("blueprints", identifier)

    def add_entity(self, blueprint: str, entity: dict[str, Any]) -> None:
        body = {"properties": {}, "relations": {}, **entity, "blueprint": blueprint}
        self._put("entities", entity["identifier"], body, blueprint)

    def entities(
        self, blueprint: str, *, offset: int = 0, limit: int = -1
    ) -> dict[str, dict[str, Any]]:
        """Return `blueprint`'s entities by identifier, in identifier order (or a page of them)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM entities WHERE bp = ? ORDER BY id LIMIT ? OFFSET ?",
                (blueprint, limit, offset),
            )
            return {identifier: json.loads(body) for identifier, body in rows}

    def entity_counts(self) -> dict[str, int]:
        """Return the number of entities of each blueprint that has any."""
        with self._lock:
            rows = self._db.execute("SELECT bp, COUNT(*) FROM entities GROUP BY bp ORDER BY bp")
            return dict(rows)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def fail(
        self,
        status: int,
        *,
        times: int | None = 1,
        path: str = "",
        after: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer `status` to `times` requests (None: forever) whose path matches `path`."""
        with self._lock:
            self._faults.append(Fault(status, path, times, after, headers or {}))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, method: str | None = None, path: str = "") -> list[LoggedRequest]:
        return [
            r
            for r in list(self.requests)
            if (method is None or r.method == method) and re.search(path, r.path)
        ]

    # -- HTTP plumbing -------------------------------------------------------------------------
    def respond(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        """Answer one request (after `latency_ms`): log it, dispatch it, write Port's JSON reply."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        method = handler.command
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        status, payload, headers = self._dispatch(method, url.path, query, raw, body, handler)
        with self._lock:
            self.requests.append(LoggedRequest(method, unquote(url.path), query, body, status))
        data = json.dumps(payload).encode()
        handler.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        raw: bytes,
        body: Any,
        handler: BaseHTTPRequestHandler,
    ) -> Reply:
        fault = self._take_fault(path)
        if fault is not None:
            return fault.status, _error("injected_fault", f"HTTP {fault.status}"), fault.headers
        try:
            if len(raw) > MAX_BODY_BYTES:
                raise PortError(
                    413, "request_too_large", "Request body is too large (limit is 1MiB)"
                )
            if path == "/v1/auth/access_token" and method == "POST":
                return self._token(body)
            if not self._authorized(handler.headers.get("Authorization", "")):
                raise PortError(401, "unauthorized", "Missing or expired access token")
            for route_method, pattern, action in self._routes:
                match = pattern.match(path)
                if match and route_method == method:
                    args = {k: unquote(v) for k, v in match.groupdict().items()}
                    with self._lock:
                        return action(query=query, body=body, **args)
            raise PortError(404, "not_found", f"Route {method} {path} not found")
        except PortError as fault_error:
            return fault_error.status, fault_error.body(), {}

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining == 0 or not re.search(fault.path, path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _token(self, body: Any) -> Reply:
        credentials = body if isinstance(body, dict) else {}
        if (credentials.get("clientId"), credentials.get("clientSecret")) != (
            self.client_id,
            self.client_secret,
        ):
            raise PortError(401, "invalid_credentials", "The provided credentials are invalid")
        now = time.time()
        with self._lock:
            live = [(t, exp) for t, exp in self._tokens.items() if exp > now]
            token, expiry = live[0] if live else (secrets.token_hex(16), now + self.token_ttl)
            self._tokens[token] = expiry
        reply = {
            "ok": True,
            "accessToken": token,
            "expiresIn": int(expiry - now),
            "tokenType": "Bearer",
        }
        return 200, reply, {}

    def _authorized(self, header: str) -> bool:
        token = header.removeprefix("Bearer ")
        with self._lock:
            return self._tokens.get(token, 0) > time.time()

    # -- storage -------------------------------------------------------------------------------
    def _get(self, table: str, identifier: str, bp: str | None = None) -> dict[str, Any] | None:
        where = "id = ?" + (" AND bp = ?" if bp is not None else "")
        params = (identifier,) if bp is None else (identifier, bp)
        with self._lock:
            row = self._db.execute(f"SELECT body FROM {table} WHERE {where}", params).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def _put(
        self, table: str, identifier: str, body: dict[str, Any], bp: str | None = None
    ) -> None:
        with self._lock:
            if bp is None:
                self._db.execute(
                    "REPLACE INTO blueprints VALUES (?, ?)", (identifier, json.dumps(body))
                )
            else:
                self._db.execute(
                    "REPLACE INTO entities VALUES (?, ?, ?)", (bp, identifier, json.dumps(body))
                )

    def _required_blueprint(self, bp: str) -> dict[str, Any]:
        blueprint = self._get("blueprints", bp)
        if blueprint is None:
            raise PortError(404, "not_found", f"Blueprint {bp} was not found")
        return blueprint

    # -- blueprints ----------------------------------------------------------------------------
    def _list_blueprints(self, **_: Any) -> Reply:
        rows = self._db.execute("SELECT body FROM blueprints ORDER BY id")
        return 200, {"ok": True, "blueprints": [json.loads(body) for (body,) in rows]}, {}

    def _get_blueprint(self, bp: str, **_: Any) -> Reply:
        return 200, {"ok": True, "blueprint": self._required_blueprint(bp)}, {}

    def _create_blueprint(self, body: Any, **_: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("identifier"), str):
            raise PortError(
                422, "invalid_request", "The json provided does not match the route's schema"
            )
        if self._get("blueprints", body["identifier"]) is not None:
            raise PortError(409, "identifier_taken", f"Blueprint {body['identifier']} exists")
        self._check_relation_targets(body.get("relations", {}))
        self.add_blueprint(body)
        return 201, {"ok": True, "blueprint": self.blueprint(body["identifier"])}, {}

    def _patch_blueprint(self, bp: str, body: Any, **_: Any) -> Reply:
        blueprint = self._required_blueprint(bp)
        self._check_relation_targets(body.get("relations", {}))
        self.add_blueprint({**blueprint, **body, "identifier": bp})
        return 200, {"ok": True, "blueprint": self.blueprint(bp)}, {}

    def _check_relation_targets(self, relations: dict[str, Any]) -> None:
        for name, relation in relations.items():
            if self._get("blueprints", relation.get("target", "")) is None:
                raise PortError(404, "not_found", f"Relation {name}: target blueprint not found")

    # -- entities ------------------------------------------------------------------------------
    def _bulk_upsert(self, bp: str, query: dict[str, list[str]], body: Any, **_: Any) -> Reply:
        blueprint = self._required_blueprint(bp)
        entities = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(entities, list) or not 1 <= len(entities) <= 20:
            raise PortError(422, "invalid_request", "entities must hold 1 to 20 entities")
        flags = {
            name: query.get(name) == ["true"]
            for name in ("upsert", "merge", "create_missing_related_entities")
        }
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, entity in enumerate(entities):
            identifier = entity.get("identifier") if isinstance(entity, dict) else None
            try:
                created = self._upsert(blueprint, entity, **flags)
            except PortError as fault:
                # Bulk error items: identifier, index, statusCode, error, message (docs
                # `create-multiple-entities`), plus the details a single upsert would answer.
                errors.append(
                    {
                        **fault.body(),
                        "identifier": identifier or "unknown",
                        "index": index,
                        "statusCode": fault.status,
                    }
                )
                errors[-1].pop("ok")
            else:
                results.append(
                    {
                        "created": created,
                        "identifier": identifier,
                        "index": index,
                        "additionalData": {},
                    }
                )
        return (207 if errors else 200), {"ok": True, "entities": results, "errors": errors}, {}

    def _upsert(
        self,
        blueprint: dict[str, Any],
        entity: Any,
        *,
        upsert: bool,
        merge: bool,
        create_missing_related_entities: bool,
    ) -> bool:
        if not isinstance(entity, dict) or not is_identifier(entity.get("identifier")):
            raise PortError(422, "invalid_request", "identifier does not match the pattern")
        bp, identifier = blueprint["identifier"], entity["identifier"]
        existing = self._get("entities", identifier, bp)
        if existing is not None and not upsert:
            raise PortError(409, "identifier_taken", f"Entity {identifier} already exists")
        stored = {"identifier": identifier, "properties": {}, "relations": {}}
        if existing is not None and merge:
            stored = existing
        stored = {
            **stored,
            **{k: v for k, v in entity.items() if k in ("title", "icon", "team")},
            "properties": {**stored["properties"], **entity.get("properties", {})},
            "relations": {**stored["relations"], **entity.get("relations", {})},
        }
        _check_entity(blueprint, stored)
        missing = [
            (self._required_blueprint(target_bp), target)
            for target_bp, target in _relation_targets(blueprint, stored["relations"])
            if self._get("entities", target, target_bp) is None
        ]
        if missing and not create_missing_related_entities:
            raise PortError(
                404,
                "not_found",
                f"Entity not found: {missing[0][1]} of blueprint {missing[0][0]['identifier']}",
            )
        for target_blueprint, target in missing:
            # A bare entity must pass its blueprint too: strictest reading, as Port documents no
            # exception for required properties or relations of created related entities.
            bare = {"identifier": target, "title": target, "properties": {}, "relations": {}}
            _check_entity(target_blueprint, bare)
            self.add_entity(target_blueprint["identifier"], bare)
        self.add_entity(bp, stored)
        return existing is None

    def _search(self, bp: str, body: Any, **_: Any) -> Reply:
        self._required_blueprint(bp)
        body = body or {}
        limit, start = body.get("limit", 200), int(body.get("from") or 0)
        if not 1 <= limit <= 1000:
            raise PortError(422, "invalid_request", "limit must be 1..1000")
        # One row past the page tells whether there is a next page.
        page = list(self.entities(bp, offset=start, limit=limit + 1).values())
        entities = page[:limit]
        include = body.get("include")
        if include:
            entities = [{k.lstrip("$"): e.get(k.lstrip("$")) for k in include} for e in entities]
        reply: dict[str, Any] = {"ok": True, "entities": entities}
        if len(page) > limit:
            reply["next"] = str(start + limit)
        return 200, reply, {}

    def _list_entities(self, bp: str, **_: Any) -> Reply:
        self._required_blueprint(bp)
        return 200, {"ok": True, "entities": list(self.entities(bp).values())}, {}

    def _get_entity(self, bp: str, entity_id: str, **_: Any) -> Reply:
        entity = self._get("entities", entity_id, bp)
        if entity is None:
            raise PortError(404, "not_found", f"Entity {entity_id} was not found")
        return 200, {"ok": True, "entity": entity}, {}

    def _delete_entity(
        self, bp: str, entity_id: str, query: dict[str, list[str]], **_: Any
    ) -> Reply:
        self._get_entity(bp, entity_id)
        self._delete(bp, [entity_id], query)
        return 200, {"ok": True}, {}

    def _bulk_delete(self, bp: str, query: dict[str, list[str]], body: Any, **_: Any) -> Reply:
        self._required_blueprint(bp)
        ids = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise PortError(422, "invalid_request", "entities must hold 1 to 100 identifiers")
        self._delete(bp, ids, query)
        return 200, {"ok": True, "deletedEntities": ids}, {}

    def _delete(self, bp: str, ids: list[str], query: dict[str, list[str]]) -> None:
        """Delete `ids` and, with `delete_dependents`, what depends on them (transitively).

        Dependents are the entities with a *required* relation to a deleted one (docs
        `custom-integration/api/advanced`: "useful when you have two blueprints with a required
        relation"); without the flag nothing is deleted if any exist (docs
        `delete-multiple-entities`). Optional relations to a deleted entity just lose it.
        """
        doomed = {(bp, identifier) for identifier in ids}
        frontier = set(doomed)
        while frontier:
            dependents = set(self._dependents(frontier)) - doomed
            if dependents and query.get("delete_dependents") != ["true"]:
                raise PortError(
                    422, "has_dependents", f"Entities have dependents: {sorted(dependents)[:5]}"
                )
            doomed |= dependents
            frontier = dependents
        for target_bp, identifier in doomed:
            self._db.execute(
                "DELETE FROM entities WHERE bp = ? AND id = ?", (target_bp, identifier)
            )
        self._drop_references(doomed)

    def _source_relations(self, targets: set[tuple[str, str]]) -> Any:
        """Yield (blueprint, relation name, definition, entity) for relations into `targets`."""
        target_bps = {target_bp for target_bp, _ in targets}
        for (body,) in self._db.execute("SELECT body FROM blueprints").fetchall():
            blueprint = json.loads(body)
            for name, relation in blueprint["relations"].items():
                if relation.get("target") not in target_bps:
                    continue
                for entity in self.entities(blueprint["identifier"]).values():
                    value = entity["relations"].get(name)
                    values = value if isinstance(value, list) else [value]
                    if {(relation["target"], v) for v in values} & targets:
                        yield blueprint["identifier"], name, relation, entity

    def _dependents(self, targets: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """Entities with a required relation to one of `targets`."""
        return [
            (bp, entity["identifier"])
            for bp, _, relation, entity in self._source_relations(targets)
            if relation.get("required")
        ]

    def _drop_references(self, deleted: set[tuple[str, str]]) -> None:
        """Remove deleted entities from the optional relations that pointed at them."""
        for bp, name, relation, entity in list(self._source_relations(deleted)):
            value = entity["relations"][name]
            gone = {
                identifier for target_bp, identifier in deleted if target_bp == relation["target"]
            }
            if isinstance(value, list):
                entity["relations"][name] = [v for v in value if v not in gone]
            else:
                entity["relations"][name] = None
            self.add_entity(bp, entity)


def _error(error: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": error, "message": message}


def _mismatch(path: str, keyword: str, params: dict[str, Any], message: str) -> dict[str, Any]:
    return {"instancePath": path, "keyword": keyword, "params": params, "message": message}


def _not_defined(path: str, name: str, note: str = "") -> dict[str, Any]:
    params = {"additionalProperty": name}
    return _mismatch(path, "additionalProperties", params, f"must NOT have additional {note}")


def _required(path: str, kind: str, name: str) -> dict[str, Any]:
    params = {"missingProperty": name}
    return _mismatch(path, "required", params, f"must have required {kind} '{name}'")


def _check_entity(blueprint: dict[str, Any], entity: dict[str, Any]) -> None:
    """Raise 422 `entity_does_not_match_blueprint` with every rule `entity` breaks."""
    schema = blueprint["schema"]
    errors: list[dict[str, Any]] = []
    for name, value in entity["properties"].items():
        definition = schema["properties"].get(name)
        path = f"/properties/{name}"
        if definition is None:
            errors.append(_not_defined(path, name, "properties"))
        elif value is not None:
            errors += _value_errors(path, definition, value)
            item_schema = definition.get("items")
            if isinstance(value, list) and isinstance(item_schema, dict):
                for index, item in enumerate(value):
                    errors += _value_errors(f"{path}/{index}", item_schema, item)
    for name in schema.get("required", []):
        if entity["properties"].get(name) is None:
            errors.append(_required("/properties", "property", name))
    errors += _relation_errors(blueprint, entity["relations"])
    if errors:
        raise PortError(
            422,
            DOES_NOT_MATCH,
            f"The entity {entity['identifier']} does not match the blueprint's schema",
            {"blueprint": blueprint["identifier"], "errors": errors},
        )


def _value_errors(path: str, schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """Type, format and enum of one value (a property or an array item); null is not a type."""
    kind = schema.get("type")
    if kind is not None:
        expected = _TYPES[kind]
        if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
            return [_mismatch(path, "type", {"type": kind}, f"must be {kind}")]
    fmt = schema.get("format")
    if fmt and isinstance(value, str) and not matches_format(fmt, value):
        message = f'must match format "{fmt}" ({FORMAT_NAMES[fmt]})'
        return [_mismatch(path, "format", {"format": fmt}, message)]
    if "enum" in schema and value not in schema["enum"]:
        message = "must be equal to one of the allowed values"
        return [_mismatch(path, "enum", {"allowedValues": schema["enum"]}, message)]
    return []


def _relation_errors(blueprint: dict[str, Any], relations: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    for name, value in relations.items():
        definition = blueprint["relations"].get(name)
        path = f"/relations/{name}"
        if definition is None:
            errors.append(_not_defined(path, name, "properties (no such relation)"))
        elif value is None:
            continue
        elif definition.get("many"):
            if not isinstance(value, list) or not all(is_identifier(v) for v in value):
                errors.append(
                    _mismatch(path, "type", {"type": "array"}, "must be an array of identifiers")
                )
        elif not is_identifier(value):
            errors.append(_mismatch(path, "type", {"type": "string"}, "must be an identifier"))
    for name, definition in blueprint["relations"].items():
        if definition.get("required") and relations.get(name) in (None, []):
            errors.append(_required("/relations", "relation", name))
    return errors


def _relation_targets(
    blueprint: dict[str, Any], relations: dict[str, Any]
) -> list[tuple[str, str]]:
    targets = []
    for name, value in relations.items():
        target_bp = blueprint["relations"][name]["target"]
        values = value if isinstance(value, list) else [] if value is None else [value]
        targets += [(target_bp, v) for v in values]
    return targets


def main(argv: list[str] | None = None) -> None:
    """CLI: print `{"base_url", "client_id", "client_secret"}`, serve, print entity counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client-id", default="port-client")
    parser.add_argument("--client-secret", default="port-secret")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with FakePort(args.client_id, args.client_secret) as fake:
        line = {
            "base_url": fake.base_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        }
        print(json.dumps(line), flush=True)
        while not stopped.wait(0.5):
            pass
        print(json.dumps({"entities": fake.entity_counts()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
