"""Keys of the streams' states that the source and the Port writer both read.

The writer adds the ids of the issues Port refused for now under `PENDING_RETRY`
(`port/skipped.py`); the next read takes them out and reads those issues again by id
(`pending_retry.py`).

The writer stamps each STATE it echoes that has no `MAPPING_FINGERPRINT` with the fingerprint
of the mapping and blueprints that wrote the stream's records (`port/fingerprint.py`); the
source carries the value from its incoming state to the STATEs it emits, so the writer of a
later sync sees which mapping the saved cursor was written with. `jira-port sync` re-reads a
stream in full when it differs (`app/remap.py`).
"""

PENDING_RETRY = "pending_retry"
MAPPING_FINGERPRINT = "mapping_fingerprint"
