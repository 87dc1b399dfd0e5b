"""Launch the official `airbyte-source-jira` 4.0.0 against a plain-HTTP fake Jira.

    /tmp/official-jira-venv/bin/python integration_tests/benchmarks/official_jira.py read \
        --config config.json --catalog catalog.json

Run it with the official connector's own virtualenv (it needs airbyte-cdk 6). Its manifest
hard-codes `https://{domain}`; this launcher changes only that scheme to `http://`, so `domain`
may be `127.0.0.1:<port>`, and then runs the connector's unchanged entry point. Run it from a
directory without a `manifest.yaml`: the CDK would load that file instead of its own.
"""

from __future__ import annotations

from typing import Any

from source_jira import SourceJira
from source_jira.run import run

_HTTPS_SITE = "https://{{ config['domain'] }}"
_read_manifest = SourceJira._read_and_parse_yaml_file


def _plain_http(node: Any) -> Any:
    """Return the manifest with every `https://{domain}` URL turned into `http://{domain}`."""
    if isinstance(node, dict):
        return {key: _plain_http(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain_http(value) for value in node]
    if isinstance(node, str) and node.startswith(_HTTPS_SITE):
        return "http" + node.removeprefix("https")
    return node


def _read_plain_http_manifest(self: SourceJira, path: str) -> Any:
    return _plain_http(_read_manifest(self, path))


SourceJira._read_and_parse_yaml_file = _read_plain_http_manifest

if __name__ == "__main__":
    run()
