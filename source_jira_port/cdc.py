"""Airbyte's CDC field names: a record whose `_ab_cdc_deleted_at` is set is a deletion.

The source emits deletion records with both fields (`deletions/tracker.py`); the Port writer
and the dry run delete the entity such a record names. Convention:
https://docs.airbyte.com/understanding-airbyte/cdc
"""

DELETED_AT = "_ab_cdc_deleted_at"
UPDATED_AT = "_ab_cdc_updated_at"
