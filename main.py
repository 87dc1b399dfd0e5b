"""Docker entrypoint of the Jira source."""

from source_jira_port.run import run

if __name__ == "__main__":
    run()
