"""Console entrypoint of the Port destination (`destination-port`)."""

import gc
import sys

from source_jira_port.port.destination import DestinationPort

# As in the source (source_jira_port/run.py): records are freed by reference counting, and the
# cyclic collector only rescanned them and everything imported. About 15% of the write's CPU.
_GC_YOUNG_THRESHOLD = 100_000


def run() -> None:
    """Run the destination with the command line arguments (spec, check, write)."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, older, oldest)
    DestinationPort().run(sys.argv[1:])


if __name__ == "__main__":
    run()
