from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_jira_port.port.config import SPEC, InvalidRecordPolicy, PortSettings

_REQUIRED = {"port_client_id": "id", "port_client_secret": "secret"}


def test_defaults_are_filled_from_the_spec() -> None:
    settings = PortSettings.from_config(_REQUIRED)

    assert settings.base_url == "https://api.getport.io"
    assert settings.mapping is None
    assert settings.create_missing_blueprints is True
    assert (settings.batch_size, settings.concurrency) == (20, 8)
    assert settings.delete_missing_entities is False
    assert settings.entity_deletion_threshold == 0.9
    assert settings.on_invalid_record == InvalidRecordPolicy.FAIL


def test_values_are_read_and_the_base_url_trailing_slash_dropped() -> None:
    settings = PortSettings.from_config(
        {
            **_REQUIRED,
            "port_base_url": "https://api.us.getport.io/",
            "mapping": "resources: []",
            "batch_size": 5,
            "on_invalid_record": "skip",
        }
    )

    assert settings.base_url == "https://api.us.getport.io"
    assert settings.mapping == "resources: []"
    assert settings.batch_size == 5
    assert settings.on_invalid_record == InvalidRecordPolicy.SKIP


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"batch_size": 21}, "batch_size: 21 is greater than the maximum of 20"),
        ({"entity_deletion_threshold": 1.5}, "entity_deletion_threshold"),
        ({"on_invalid_record": "ignore"}, "on_invalid_record"),
        ({"port_base_url": "api.getport.io"}, "port_base_url"),
        ({"port_client_id": None}, "port_client_id"),
    ],
)
def test_invalid_config_is_a_config_error(override: dict[str, Any], reason: str) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        PortSettings.from_config({**_REQUIRED, **override})

    assert reason in str(raised.value)
    assert raised.value.failure_type == FailureType.config_error


def test_missing_credentials_are_named() -> None:
    with pytest.raises(AirbyteTracedException, match="'port_client_secret' is a required"):
        PortSettings.from_config({"port_client_id": "id"})


def test_invalid_secret_value_is_not_echoed() -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        PortSettings.from_config({**_REQUIRED, "port_client_secret": 123456789})

    assert "port_client_secret: invalid value" in str(raised.value)
    assert "123456789" not in str(raised.value)


def test_secret_is_not_in_the_settings_repr() -> None:
    settings = PortSettings.from_config({**_REQUIRED, "port_client_secret": "zz-hidden-zz"})

    assert "zz-hidden-zz" not in repr(settings)


def test_every_spec_field_is_documented_and_only_the_secret_is_hidden() -> None:
    properties = SPEC["properties"]

    for name, schema in properties.items():
        assert name.islower() and " " not in name
        assert {"title", "description", "examples"} <= schema.keys(), name
    secrets = {name for name, schema in properties.items() if schema.get("airbyte_secret")}
    assert secrets == {"port_client_secret"}
    assert [name for name in properties if name.startswith("port_")] == [
        "port_client_id",
        "port_client_secret",
        "port_base_url",
    ]
