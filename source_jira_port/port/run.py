"""Console entrypoint of the Port destination (`destination-port`)."""

import sys

from source_jira_port.gc_tuning import tune_garbage_collector
from source_jira_port.port.destination import DestinationPort
from source_jira_port.version import exit_if_version_asked


def run() -> None:
    """Run the destination with the command line arguments (spec, check, write)."""
    exit_if_version_asked("destination-port", sys.argv[1:])
    tune_garbage_collector()
    DestinationPort().run(sys.argv[1:])


if __name__ == "__main__":
    run()
