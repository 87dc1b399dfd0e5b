"""Port's request limits (docs `create-multiple-entities`, `delete-multiple-entities`)."""

# Entities in one bulk upsert, of one blueprint.
MAX_BULK_ENTITIES = 20
# A request body.
MAX_REQUEST_BYTES = 1024 * 1024
# Identifiers in one bulk delete, of one blueprint.
MAX_DELETE_IDS = 100
