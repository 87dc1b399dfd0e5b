"""The fake Jira's "Get my permissions": `GET /rest/api/{2,3}/mypermissions?permissions=...`.

Modelled on Atlassian's reference (Jira Cloud platform REST API v3, Permissions, "Get my
permissions"; Jira Server 9 REST, `api/2/mypermissions`):
- `permissions` is required, a comma-separated list of permission keys (Cloud: "Omitting this
  parameter is deprecated" and now refused): a missing or empty list, or a key Jira does not
  know, is 400. The reference gives no error text; these are Jira's usual `errorMessages` body.
- It may be called anonymously: an anonymous caller holds none of these permissions.
- The answer is `{"permissions": {KEY: {id, key, name, type, description, havePermission}}}`,
  one entry per key asked, global permissions unaffected by any project or issue context.
Only the permissions the fake models are known: the global 'Browse users and groups'
(`USER_PICKER`, held while `FakeJira.browse_users`) and 'Administer Jira' (`ADMINISTER`, never
held by the bot), and the project permission 'Browse projects' (held in every project).
"""

from __future__ import annotations

from typing import Any

# key -> (id, name, type, description), as Jira's "Get all permissions" lists them.
_KNOWN = {
    "USER_PICKER": (
        "27",
        "Browse users and groups",
        "GLOBAL",
        "View and select users or groups from the user picker, and share issues.",
    ),
    "ADMINISTER": (
        "0",
        "Administer Jira",
        "GLOBAL",
        "Create and administer projects, issue types, fields, workflows, and schemes.",
    ),
    "BROWSE_PROJECTS": (
        "10",
        "Browse Projects",
        "PROJECT",
        "Ability to browse projects and the issues within them.",
    ),
}


def my_permissions(
    params: dict[str, list[str]], *, authenticated: bool, browse_users: bool
) -> tuple[int, dict[str, Any]]:
    """Answer `GET mypermissions` for the caller: (status, JSON body)."""
    keys = [key.strip() for key in params.get("permissions", [""])[-1].split(",") if key.strip()]
    if not keys:
        return _error("The permissions query parameter is required.")
    unknown = [key for key in keys if key not in _KNOWN]
    if unknown:
        return _error(f"Invalid permission key(s): {', '.join(unknown)}")
    held = {
        "USER_PICKER": authenticated and browse_users,
        "ADMINISTER": False,
        "BROWSE_PROJECTS": authenticated,
    }
    permissions = {}
    for key in keys:
        identifier, name, kind, description = _KNOWN[key]
        permissions[key] = {
            "id": identifier,
            "key": key,
            "name": name,
            "type": kind,
            "description": description,
            "havePermission": held[key],
        }
    return 200, {"permissions": permissions}


def _error(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"errorMessages": [message], "errors": {}}
