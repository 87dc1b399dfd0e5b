"""The Airbyte stream names the manifest declares, for the Python code that refers to them.

`unit_tests/test_stream_names.py` checks that each name here is a stream of the manifest.
"""

PROJECTS = "projects"
ISSUES = "issues"
TEAMS = "teams"
USERS = "users"
WORKLOGS = "worklogs"
RELEASES = "releases"
COMPONENTS = "components"
# Jira Software's agile API (agile.py).
BOARDS = "boards"
SPRINTS = "sprints"
EPICS = "epics"
BACKLOG = "backlog"
