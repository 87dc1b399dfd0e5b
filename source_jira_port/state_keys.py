"""Keys of the `issues` stream's state that the source and the Port writer both read.

The writer adds the ids of the issues Port refused for now under `PENDING_RETRY`
(`port/skipped.py`); the next read takes them out and reads those issues again by id
(`pending_retry.py`).
"""

PENDING_RETRY = "pending_retry"
