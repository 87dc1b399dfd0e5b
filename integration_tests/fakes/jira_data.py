"""Deterministic Jira data for the fake server, stored deployment-neutral, rendered per deployment.

Issues keep epoch milliseconds, references to the constant status/type/priority tables and a
wiki-markup description; :class:`Renderer` turns them into Jira Cloud (v3: ADF, `accountId`
users) or Jira Server (v2: wiki strings, `name`/`key` users) JSON.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

Deployment = Literal["cloud", "server"]
# Jira Cloud `accountType` (REST v3 `User`): a person, an app (automation, integrations) or a
# Jira Service Management customer.
AccountType = Literal["atlassian", "app", "customer"]

DEFAULT_START = datetime(2023, 1, 1, tzinfo=UTC)
DEFAULT_END = datetime(2024, 12, 31, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_ms(moment: datetime) -> int:
    """Return an aware datetime as epoch milliseconds (sub-millisecond part dropped)."""
    if moment.tzinfo is None:
        raise ValueError("expected an aware datetime")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def format_jira_time(epoch_ms: int, zone: ZoneInfo) -> str:
    """Render epoch ms as Jira does: `2024-03-22T11:58:25.927+0200`."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, zone)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}{moment:%z}"


@dataclass(frozen=True, slots=True)
class Status:
    """A workflow status and its category (`statusCategory.id` is an int in Jira)."""

    id: str
    name: str
    category_id: int
    category_key: str
    category_name: str
    category_color: str


@dataclass(frozen=True, slots=True)
class IssueType:
    """An issue type; `hierarchy` is Cloud's `hierarchyLevel`."""

    id: str
    name: str
    subtask: bool
    hierarchy: int


@dataclass(frozen=True, slots=True)
class Priority:
    """An issue priority."""

    id: str
    name: str


TO_DO = Status("10000", "To Do", 2, "new", "To Do", "blue-gray")
IN_PROGRESS = Status("3", "In Progress", 4, "indeterminate", "In Progress", "yellow")
IN_REVIEW = Status("10001", "In Review", 4, "indeterminate", "In Progress", "yellow")
DONE = Status("10002", "Done", 3, "done", "Done", "green")
STATUSES = (TO_DO, IN_PROGRESS, IN_REVIEW, DONE)

EPIC = IssueType("10000", "Epic", False, 1)
STORY = IssueType("10001", "Story", False, 0)
TASK = IssueType("10002", "Task", False, 0)
BUG = IssueType("10003", "Bug", False, 0)
SUBTASK = IssueType("10004", "Sub-task", True, -1)
ISSUE_TYPES = (EPIC, STORY, TASK, BUG, SUBTASK)

PRIORITIES = tuple(
    Priority(str(n), name)
    for n, name in enumerate(("Highest", "High", "Medium", "Low", "Lowest"), start=1)
)
MEDIUM = PRIORITIES[2]


def _lookup(table: Iterable[Any], value: str) -> Any:
    """Find a status/type/priority by id or case-insensitive name; KeyError when absent."""
    wanted = value.casefold()
    for item in table:
        if item.id == value or item.name.casefold() == wanted:
            return item
    raise KeyError(value)


@dataclass(frozen=True, slots=True)
class User:
    """A Jira user with both the Cloud (`account_id`) and the Server (`name`, `key`) identity.

    On Cloud a third of the users hide their email (`emailAddress` absent, as Cloud leaves it out
    under the user's profile visibility); on Server every user shows `name`, `key` and email.
    """

    account_id: str
    name: str
    key: str
    display_name: str
    email: str
    email_visible_on_cloud: bool
    active: bool
    time_zone: str
    account_type: AccountType = "atlassian"

    @property
    def on_server(self) -> bool:
        """Whether Server / Data Center has this account: app accounts are Cloud's alone."""
        return self.account_type != "app"

    def matches(self, ident: str) -> bool:
        """Whether `ident` is this user's accountId, name, key, email or display name."""
        return ident in (self.account_id, self.name, self.key, self.email, self.display_name)


@dataclass(frozen=True, slots=True)
class Component:
    """A project component."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Version:
    """A project version (Port's release); dates are `YYYY-MM-DD` or None."""

    id: str
    name: str
    project_id: str
    description: str
    released: bool
    archived: bool
    start_date: str | None
    release_date: str | None


@dataclass(frozen=True, slots=True)
class Project:
    """A Jira project; `style` is `classic` (company-managed) or `next-gen` (team-managed)."""

    id: str
    key: str
    name: str
    type_key: str
    style: str
    private: bool
    archived: bool
    lead: User
    description: str
    components: tuple[Component, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """A select-list option of a custom field."""

    id: str
    value: str


CustomKind = Literal[
    "text", "number", "select", "multiselect", "labels", "textarea", "date", "user"
]

_CUSTOM_SCHEMAS: dict[str, tuple[str, str | None, str]] = {
    "text": ("string", None, "textfield"),
    "number": ("number", None, "float"),
    "select": ("option", None, "select"),
    "multiselect": ("array", "option", "multiselect"),
    "labels": ("array", "string", "labels"),
    "textarea": ("string", None, "textarea"),
    "date": ("date", None, "datepicker"),
    "user": ("user", None, "userpicker"),
}


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom field; values are stored neutrally (Option, list[Option], User, str, float)."""

    id: str
    name: str
    kind: CustomKind
    options: tuple[Option, ...] = ()

    def schema(self) -> dict[str, Any]:
        """Jira's `schema` object for this field."""
        type_, items, plugin = _CUSTOM_SCHEMAS[self.kind]
        schema: dict[str, Any] = {"type": type_}
        if items:
            schema["items"] = items
        schema["custom"] = f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"
        schema["customId"] = int(self.id.removeprefix("customfield_"))
        return schema


@dataclass(slots=True)
class Issue:
    """One issue in neutral form. `created`/`updated`/`resolved` are epoch ms."""

    id: int
    key: str
    project_key: str
    number: int
    summary: str
    status: Status
    issuetype: IssueType
    priority: Priority
    assignee: User | None
    reporter: User | None
    creator: User
    components: list[Component]
    labels: list[str]
    parent_key: str | None
    subtask_keys: list[str]
    created: int
    updated: int
    resolved: int | None
    duedate: str | None
    description: str | None
    custom: dict[str, Any]
    fix_versions: list[Version] = field(default_factory=list)


# (id, name, navigable, schema) of the system fields the fake renders
SYSTEM_FIELDS: tuple[tuple[str, str, bool, dict[str, Any]], ...] = (
    ("summary", "Summary", True, {"type": "string", "system": "summary"}),
    ("status", "Status", True, {"type": "status", "system": "status"}),
    ("issuetype", "Issue Type", True, {"type": "issuetype", "system": "issuetype"}),
    ("project", "Project", True, {"type": "project", "system": "project"}),
    ("priority", "Priority", True, {"type": "priority", "system": "priority"}),
    ("assignee", "Assignee", True, {"type": "user", "system": "assignee"}),
    ("reporter", "Reporter", True, {"type": "user", "system": "reporter"}),
    ("creator", "Creator", True, {"type": "user", "system": "creator"}),
    (
        "components",
        "Components",
        True,
        {"type": "array", "items": "component", "system": "components"},
    ),
    ("labels", "Labels", True, {"type": "array", "items": "string", "system": "labels"}),
    ("parent", "Parent", True, {"type": "issuelink", "system": "parent"}),
    ("subtasks", "Sub-tasks", True, {"type": "array", "items": "issuelinks", "system": "subtasks"}),
    ("created", "Created", True, {"type": "datetime", "system": "created"}),
    ("updated", "Updated", True, {"type": "datetime", "system": "updated"}),
    ("resolution", "Resolution", True, {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", True, {"type": "datetime", "system": "resolutiondate"}),
    ("duedate", "Due date", True, {"type": "date", "system": "duedate"}),
    ("description", "Description", True, {"type": "string", "system": "description"}),
    ("comment", "Comment", False, {"type": "comments-page", "system": "comment"}),
    (
        "fixVersions",
        "Fix versions",
        True,
        {"type": "array", "items": "version", "system": "fixVersions"},
    ),
)


@dataclass
class Dataset:
    """Projects, users, custom fields and issues (by key, in creation order).

    Not thread-safe by itself; :class:`FakeJira` guards it with a lock. `version` grows with
    every mutation so callers can cache query results.
    """

    projects: list[Project]
    users: list[User]
    custom_fields: list[CustomField]
    issues: dict[str, Issue]
    version: int = 0
    _next_id: int = 0
    _next_number: dict[str, int] = field(default_factory=dict)
    project_versions: list[Version] = field(default_factory=list)
    # The sprint field (jira_agile.py): its id, and how it renders an issue's sprint ids.
    sprint_field: str | None = None
    render_sprints: Callable[[tuple[int, ...], ZoneInfo], list[Any]] | None = None

    def __post_init__(self) -> None:
        self._next_id = max((issue.id for issue in self.issues.values()), default=10000) + 1
        for issue in self.issues.values():
            current = self._next_number.get(issue.project_key, 0)
            self._next_number[issue.project_key] = max(current, issue.number)

    @property
    def bot(self) -> User:
        """The user the fake's credentials authenticate as."""
        return self.users[0]

    def project(self, id_or_key: str) -> Project | None:
        """The project with this id or (case-insensitive) key."""
        wanted = id_or_key.upper()
        return next((p for p in self.projects if wanted in (p.id, p.key)), None)

    def issue(self, id_or_key: str) -> Issue | None:
        """The issue with this key (any case) or numeric id."""
        if id_or_key.isdigit():
            return next((i for i in self.issues.values() if i.id == int(id_or_key)), None)
        return self.issues.get(id_or_key.upper())

    def user(self, ident: str) -> User:
        """The user with this accountId/name/key/email/display name; KeyError when absent."""
        found = next((u for u in self.users if u.matches(ident)), None)
        if found is None:
            raise KeyError(ident)
        return found

    def delete_user(self, ident: str) -> None:
        """Remove a user's account: it leaves Jira's user list (issues keep their references)."""
        self.users.remove(self.user(ident))
        self.version += 1

    def rename_user(self, ident: str, display_name: str) -> None:
        """Give a user another display name, everywhere Jira shows the user."""
        old = self.user(ident)
        new = replace(old, display_name=display_name)
        self.users[self.users.index(old)] = new
        for issue in self.issues.values():
            for role in ("assignee", "reporter", "creator"):
                if getattr(issue, role) is old:
                    setattr(issue, role, new)
        self.version += 1

    def field_ids(self) -> list[str]:
        """All field ids in rendering order (system fields first)."""
        sprint = [self.sprint_field] if self.sprint_field else []
        return [f[0] for f in SYSTEM_FIELDS] + [c.id for c in self.custom_fields] + sprint

    def add_issue(self, project_key: str, at_ms: int, fields: Mapping[str, Any]) -> Issue:
        """Create an issue (defaults: Task, To Do, Medium, reported by the bot) at `at_ms`."""
        project = self.project(project_key)
        if project is None:
            raise KeyError(project_key)
        number = self._next_number.get(project.key, 0) + 1
        self._next_number[project.key] = number
        issue = Issue(
            id=self._next_id,
            key=f"{project.key}-{number}",
            project_key=project.key,
            number=number,
            summary="New issue",
            status=TO_DO,
            issuetype=TASK,
            priority=MEDIUM,
            assignee=None,
            reporter=self.bot,
            creator=self.bot,
            components=[],
            labels=[],
            parent_key=None,
            subtask_keys=[],
            created=at_ms,
            updated=at_ms,
            resolved=None,
            duedate=None,
            description=None,
            custom={c.id: None for c in self.custom_fields},
        )
        self._next_id += 1
        self.issues[issue.key] = issue
        self._apply(issue, at_ms, fields)
        return issue

    def update_issue(self, key: str, at_ms: int, fields: Mapping[str, Any]) -> Issue:
        """Change `fields` of an issue and set its `updated` to `at_ms`."""
        issue = self.issues[key.upper()]
        self._apply(issue, at_ms, fields)
        return issue

    def move_issue(self, key: str, project_key: str, at_ms: int) -> Issue:
        """Move an issue to another project: same id, the project's next key, updated `at_ms`.

        Only issues without parent or sub-tasks (Jira would move sub-tasks along).
        """
        issue = self.issues[key.upper()]
        project = self.project(project_key)
        if project is None:
            raise KeyError(project_key)
        children = any(other.parent_key == issue.key for other in self.issues.values())
        if issue.parent_key or issue.subtask_keys or children:
            raise ValueError("the fake moves issues without parent or sub-tasks only")
        del self.issues[issue.key]
        number = self._next_number.get(project.key, 0) + 1
        self._next_number[project.key] = number
        issue.project_key, issue.number, issue.key = project.key, number, f"{project.key}-{number}"
        self.issues[issue.key] = issue
        issue.updated = at_ms
        self.version += 1
        return issue

    def delete_project(self, key: str) -> None:
        """Delete a project and every issue in it, as Jira does (Cloud: after the trash)."""
        project = self.project(key)
        if project is None:
            raise KeyError(key)
        self.projects.remove(project)
        self.issues = {k: i for k, i in self.issues.items() if i.project_key != project.key}
        self.version += 1

    def delete_version(self, version_id: str) -> None:
        """Delete a version; issues lose it from their fix versions (Jira's default)."""
        version = next(v for v in self.project_versions if v.id == version_id)
        self.project_versions.remove(version)
        for issue in self.issues.values():
            if version in issue.fix_versions:
                issue.fix_versions.remove(version)
        self.version += 1

    def archive_project(self, key: str) -> None:
        """Archive a project: Jira keeps it (GET project/{id} answers 200) but lists it no more."""
        project = self.project(key)
        if project is None:
            raise KeyError(key)
        self.projects[self.projects.index(project)] = replace(project, archived=True)
        self.version += 1

    def delete_issue(self, key: str) -> None:
        """Delete an issue and its sub-tasks, as Jira does; an epic's children lose their parent."""
        issue = self.issues.pop(key.upper())
        self.version += 1
        for subtask in issue.subtask_keys:
            self.issues.pop(subtask, None)
        for other in self.issues.values():
            if other.parent_key == issue.key:
                other.parent_key = None
        parent = self.issues.get(issue.parent_key or "")
        if parent is not None and issue.key in parent.subtask_keys:
            parent.subtask_keys.remove(issue.key)

    def _apply(self, issue: Issue, at_ms: int, fields: Mapping[str, Any]) -> None:
        # parent last: whether the issue joins its parent's sub-tasks depends on its type
        for name, value in sorted(fields.items(), key=lambda item: item[0] == "parent"):
            setter = _SETTERS.get(name)
            if setter is not None:
                setter(self, issue, value)
            elif name in issue.custom:
                custom = next(c for c in self.custom_fields if c.id == name)
                issue.custom[name] = self._coerce_custom(custom, value)
            else:
                raise ValueError(f"unknown issue field {name!r}")
        if issue.status is DONE and issue.resolved is None:
            issue.resolved = at_ms
        elif issue.status is not DONE:
            issue.resolved = None
        issue.updated = at_ms
        self.version += 1

    def _coerce_custom(self, custom: CustomField, value: Any) -> Any:
        if value is None:
            return None
        if custom.kind == "select":
            return _lookup_option(custom, value)
        if custom.kind == "multiselect":
            return [_lookup_option(custom, v) for v in value]
        if custom.kind == "user":
            return self.user(value)
        return value

    def _set_parent(self, issue: Issue, parent_key: str | None) -> None:
        new = self.issues[parent_key.upper()] if parent_key else None
        old = self.issues.get(issue.parent_key or "")
        if old is not None and issue.key in old.subtask_keys:
            old.subtask_keys.remove(issue.key)
        issue.parent_key = new.key if new else None
        if new is not None and issue.issuetype.subtask:
            new.subtask_keys.append(issue.key)


def _lookup_option(custom: CustomField, value: str) -> Option:
    """The option of a select field with this id or value; KeyError when absent."""
    found = next((o for o in custom.options if value in (o.id, o.value)), None)
    if found is None:
        raise KeyError(value)
    return found


def _user_or_none(data: Dataset, ident: str | None) -> User | None:
    return None if ident is None else data.user(ident)


Setter = Callable[[Dataset, Issue, Any], None]


def _set(attr: str, convert: Callable[[Dataset, Any], Any]) -> Setter:
    return lambda data, issue, value: setattr(issue, attr, convert(data, value))


def _component_list(data: Dataset, names: Iterable[str]) -> list[Component]:
    every = {c.name: c for p in data.projects for c in p.components}
    return [every[name] for name in names]


_SETTERS: dict[str, Setter] = {
    "summary": _set("summary", lambda _, v: str(v)),
    "description": _set("description", lambda _, v: v),
    "duedate": _set("duedate", lambda _, v: v),
    "labels": _set("labels", lambda _, v: list(v)),
    "status": _set("status", lambda _, v: _lookup(STATUSES, v)),
    "priority": _set("priority", lambda _, v: _lookup(PRIORITIES, v)),
    "issuetype": _set("issuetype", lambda _, v: _lookup(ISSUE_TYPES, v)),
    "assignee": _set("assignee", _user_or_none),
    "reporter": _set("reporter", _user_or_none),
    "components": _set("components", _component_list),
    "parent": lambda data, issue, value: data._set_parent(issue, value),
}

# ---------------------------------------------------------------------------------------------
# generation

_PROJECTS = (  # key:name
    "PLAT:Platform",
    "MOB:Mobile App",
    "DATA:Data Pipeline",
    "BILL:Billing",
    "WEB:Website",
    "OPS:Infrastructure",
    "SEC:Security",
    "HR:People Ops",
)
_PEOPLE = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Linus Torvalds",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Barbara Liskov",
    "Ken Thompson",
    "Frances Allen",
    "Edsger Dijkstra",
    "Radia Perlman",
)
_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/UTC", "Australia/Sydney")
_VERBS = ("Fix", "Add", "Remove", "Refactor", "Investigate", "Document", "Speed up", "Migrate")
_THINGS = (
    "login flow",
    "export to CSV",
    "billing webhook",
    "search index",
    "dark mode",
    "audit log",
    "rate limiter",
    "signup email",
    "dashboard charts",
    "API pagination",
    "retry logic",
)
_LABELS = ("backend", "frontend", "tech-debt", "customer", "p1", "regression", "ux", "infra")
_SENTENCES = (
    "Steps to reproduce are attached.",
    "Customers reported this twice this week.",
    "See the linked incident for details.",
    "Needs a decision from the product team.",
    "The fix should be covered by a regression test.",
    "Only happens on the first login.",
)
_CUSTOM_TEMPLATES: tuple[tuple[str, CustomKind, tuple[str, ...]], ...] = (
    ("Story Points", "number", ()),
    ("Team", "select", ("Red", "Blue", "Green")),
    ("Acceptance Criteria", "textarea", ()),
    ("Environment Notes", "text", ()),
    ("Affected Platforms", "multiselect", ("iOS", "Android", "Web", "Desktop")),
    ("Tags", "labels", ()),
    ("Target Date", "date", ()),
    ("Reviewer", "user", ()),
)


# Jira Server users created before Jira 6.0 kept their username at that time as `key`, and a
# rename changes only `name` (Atlassian KB "Renaming users in Jira": the key never changes).
# Usernames from a directory (LDAP, AD) may hold spaces and symbols Port refuses in identifiers.
_LEGACY_KEYS = {"Edsger Dijkstra": "edsger dijkstra", "Frances Allen": "f.allen=ibm#1"}


def _make_users(rng: random.Random) -> list[User]:
    people = [
        ("Jira Bot", "jira-bot", "jira-bot@example.com"),
        *(
            (
                name,
                name.split()[0].lower() + name.split()[1][0].lower(),
                f"{name.replace(' ', '.').lower()}@example.com",
            )
            for name in _PEOPLE
        ),
    ]
    users = []
    for n, (display, name, email) in enumerate(people):
        if n % 2:
            account_id = f"{rng.getrandbits(96):024x}"
        else:
            account_id = f"557058:{uuid.UUID(int=rng.getrandbits(128))}"
        users.append(
            User(
                account_id=account_id,
                name=name,
                key=_LEGACY_KEYS.get(display, f"JIRAUSER{10000 + n}"),
                display_name=display,
                email=email,
                email_visible_on_cloud=n % 3 != 2,
                active=n != len(people) - 1,
                time_zone=_ZONES[n % len(_ZONES)],
            )
        )
    return users


# Accounts on no issue, with fixed ids (no draw from the dataset's random generator, so the
# issues stay as they were): a person, an app account (Cloud only; automation acts through it,
# without an email) and a Jira Service Management customer (Cloud `accountType: customer`; on
# Server a customer is an ordinary user).
_BYSTANDERS: tuple[tuple[str, str, str, AccountType], ...] = (
    ("Niklaus Wirth", "niklausw", "712020:6f1c0e0a-3b8d-4a52-9d51-0c7f4b2a9e11", "atlassian"),
    ("Automation for Jira", "automation", "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "app"),
    ("Pat Customer", "pat.customer", "qm:4a7c1f0e-2b9d-4e61-8f3a-5d0c6b1e7a22:9b2e", "customer"),
)


def _make_bystanders(first_number: int) -> list[User]:
    return [
        User(
            account_id=account_id,
            name=name,
            key=f"JIRAUSER{10000 + first_number + n}",
            display_name=display,
            email=f"{name}@example.com",
            email_visible_on_cloud=account_type != "app",
            active=True,
            time_zone=_ZONES[n % len(_ZONES)],
            account_type=account_type,
        )
        for n, (display, name, account_id, account_type) in enumerate(_BYSTANDERS)
    ]


def _make_projects(count: int, users: list[User]) -> list[Project]:
    projects = []
    for n in range(count):
        key, name = _PROJECTS[n % len(_PROJECTS)].split(":")
        if n >= len(_PROJECTS):
            suffix = _letters(n // len(_PROJECTS))
            key, name = key + suffix, f"{name} {suffix}"
        components = tuple(
            Component(str(10000 + 3 * n + c), part) for c, part in enumerate(("API", "UI", "Docs"))
        )
        projects.append(
            Project(
                id=str(10000 + n),
                key=key,
                name=name,
                type_key="business" if n % 4 == 3 else "software",
                style="next-gen" if n % 3 == 1 else "classic",
                private=n % 5 == 4,
                archived=False,
                lead=users[1 + n % (len(users) - 1)],
                description=f"Work on the {name.lower()}.",
                components=components,
            )
        )
    return projects


def _letters(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def _make_custom_fields(count: int) -> list[CustomField]:
    fields = []
    for n in range(count):
        name, kind, values = _CUSTOM_TEMPLATES[n % len(_CUSTOM_TEMPLATES)]
        options = tuple(Option(str(10100 + 10 * n + i), v) for i, v in enumerate(values))
        fields.append(CustomField(f"customfield_{10010 + n}", name, kind, options))
    return fields


def _custom_value(rng: random.Random, custom: CustomField, users: list[User], created: int) -> Any:
    kind = custom.kind
    if kind == "number":
        return float(rng.choice((1, 2, 3, 5, 8, 13)))
    if kind == "select":
        return rng.choice(custom.options)
    if kind == "multiselect":
        return rng.sample(custom.options, rng.randint(1, 2))
    if kind == "labels":
        return rng.sample(_LABELS, 2)
    if kind == "textarea":
        return f"* {rng.choice(_SENTENCES)}\n* {rng.choice(_SENTENCES)}"
    if kind == "date":
        return f"{datetime.fromtimestamp(created // 1000 + 14 * 86400, UTC):%Y-%m-%d}"
    if kind == "user":
        return rng.choice(users)
    return f"{rng.choice(_THINGS)} on {rng.choice(('staging', 'production', 'eu-west'))}"


def generate_dataset(
    projects: int = 3,
    issues: int = 200,
    seed: int = 0,
    custom_fields: int = 8,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
) -> Dataset:
    """Generate a deterministic dataset: the same arguments always give the same data.

    Issues are created uniformly between `start` and `end` (ids and per-project numbers in
    creation order) and updated between creation and `end`. About 15% are sub-tasks of an
    earlier issue, a third of the other non-epics belong to an epic, ~20% are unassigned.
    Custom field names repeat after the eighth field, as they may in Jira.
    """
    rng = random.Random(seed)
    users = _make_users(rng)
    project_list = _make_projects(projects, users)
    custom_list = _make_custom_fields(custom_fields)
    start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
    created_times = sorted(rng.randrange(start_ms, end_ms) for _ in range(issues))
    numbers = dict.fromkeys((p.key for p in project_list), 0)
    parents: dict[str, list[Issue]] = {p.key: [] for p in project_list}
    epics: dict[str, list[Issue]] = {p.key: [] for p in project_list}
    by_key: dict[str, Issue] = {}
    for n, created in enumerate(created_times):
        project = project_list[rng.randrange(projects)]
        numbers[project.key] += 1
        roll = rng.random()
        issuetype = (
            EPIC
            if roll < 0.05
            else STORY
            if roll < 0.4
            else BUG
            if roll < 0.65
            else TASK
            if roll < 0.85 or not parents[project.key]
            else SUBTASK
        )
        updated = created + int(rng.random() ** 2 * (end_ms - created))
        status = rng.choice(STATUSES)
        reporter = rng.choice(users)
        issue = Issue(
            id=10001 + n,
            key=f"{project.key}-{numbers[project.key]}",
            project_key=project.key,
            number=numbers[project.key],
            summary=f"{rng.choice(_VERBS)} {rng.choice(_THINGS)}",
            status=status,
            issuetype=issuetype,
            priority=rng.choice(PRIORITIES),
            assignee=None if rng.random() < 0.2 else rng.choice(users),
            reporter=reporter,
            creator=reporter,
            components=rng.sample(project.components, rng.randint(0, 2)),
            labels=rng.sample(_LABELS, rng.randint(0, 3)),
            parent_key=None,
            subtask_keys=[],
            created=created,
            updated=updated,
            resolved=created + (updated - created) // 2 if status is DONE else None,
            duedate=f"{datetime.fromtimestamp(created // 1000 + 30 * 86400, UTC):%Y-%m-%d}"
            if rng.random() < 0.3
            else None,
            description=None
            if rng.random() < 0.25
            else f"{rng.choice(_SENTENCES)}\n\n* {rng.choice(_SENTENCES)}\n* {rng.choice(_THINGS)}",
            custom={
                c.id: None if rng.random() < 0.3 else _custom_value(rng, c, users, created)
                for c in custom_list
            },
        )
        if issuetype is SUBTASK:
            parent = rng.choice(parents[project.key])
            issue.parent_key = parent.key
            parent.subtask_keys.append(issue.key)
        elif issuetype is EPIC:
            epics[project.key].append(issue)
        else:
            parents[project.key].append(issue)
            if epics[project.key] and rng.random() < 1 / 3:
                issue.parent_key = rng.choice(epics[project.key]).key
        by_key[issue.key] = issue
    versions = _make_versions(project_list)
    _assign_fix_versions(by_key.values(), project_list, versions)
    return Dataset(
        project_list,
        users + _make_bystanders(len(users)),
        custom_list,
        by_key,
        project_versions=versions,
    )


def _make_versions(projects: Iterable[Project]) -> list[Version]:
    """Three versions a project: released and archived, released, unreleased.

    No random draws: the issues generated from a seed stay what they were.
    """
    versions = []
    for n, project in enumerate(projects):
        for v, (name, released, archived) in enumerate(
            (("1.0", True, True), ("1.1", True, False), ("2.0", False, False))
        ):
            month = 3 * v + 1
            versions.append(
                Version(
                    id=str(20000 + 3 * n + v),
                    name=name,
                    project_id=project.id,
                    description=f"{project.name} {name}",
                    released=released,
                    archived=archived,
                    start_date=f"2024-{month:02d}-01",
                    release_date=f"2024-{month + 2:02d}-15",
                )
            )
    return versions


def _assign_fix_versions(
    issues: Iterable[Issue], projects: Iterable[Project], versions: Sequence[Version]
) -> None:
    """Give three issues in four one of their project's versions, by issue id."""
    project_ids = {p.key: p.id for p in projects}
    for issue in issues:
        own = [v for v in versions if v.project_id == project_ids[issue.project_key]]
        if issue.id % 4 < len(own):
            issue.fix_versions = [own[issue.id % 4]]


# ---------------------------------------------------------------------------------------------
# rendering


def wiki_to_adf(text: str) -> dict[str, Any]:
    """Convert the fake's wiki subset (paragraphs, `* ` bullet lists) to an ADF document."""
    content: list[dict[str, Any]] = []
    for block in filter(None, text.split("\n\n")):
        lines = block.split("\n")
        if all(line.startswith("* ") for line in lines):
            content.append(
                {
                    "type": "bulletList",
                    "content": [
                        {"type": "listItem", "content": [_adf_paragraph(line[2:])]}
                        for line in lines
                    ],
                }
            )
        else:
            content.append(_adf_paragraph(block))
    return {"type": "doc", "version": 1, "content": content}


def _adf_paragraph(text: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for n, line in enumerate(text.split("\n")):
        if n:
            parts.append({"type": "hardBreak"})
        if line:
            parts.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": parts}


class Renderer:
    """Turns neutral data into one deployment's JSON.

    `site` is the base for `self` links (the site URL, or the OAuth gateway URL on Cloud),
    `version` the REST API version the caller used (3 gives ADF; Cloud users never have
    `name`/`key`).
    """

    def __init__(
        self, data: Dataset, deployment: Deployment, version: str, site: str, zone: ZoneInfo
    ) -> None:
        self.data = data
        self.cloud = deployment == "cloud"
        self.adf = version == "3"
        self.api = f"{site}/rest/api/{version}"
        self.site = site
        self.zone = zone
        self._users: dict[str, dict[str, Any]] = {}
        self._getters = self._field_getters()

    def time(self, epoch_ms: int | None) -> str | None:
        """A Jira timestamp in the user's zone, or None."""
        return None if epoch_ms is None else format_jira_time(epoch_ms, self.zone)

    def text(self, wiki: str | None) -> Any:
        """A rich-text value: ADF on v3, the wiki string on v2."""
        if wiki is None:
            return None
        return wiki_to_adf(wiki) if self.adf else wiki

    def user(self, user: User | None, *, time_zone: str | None = None) -> dict[str, Any] | None:
        """A user as this deployment shows it (cached per renderer)."""
        if user is None:
            return None
        if time_zone is None and user.key in self._users:
            return self._users[user.key]
        avatars = _avatars(f"{self.site}/secure/useravatar?avatarId=", 10122)
        if self.cloud:
            out: dict[str, Any] = {
                "self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id,
            }
            if user.email_visible_on_cloud:
                out["emailAddress"] = user.email
            out |= {
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": time_zone or user.time_zone,
                "accountType": user.account_type,
            }
        else:
            out = {
                "self": f"{self.api}/user?username={user.name}",
                "name": user.name,
                "key": user.key,
                "emailAddress": user.email,
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": time_zone or user.time_zone,
            }
        if time_zone is None:
            self._users[user.key] = out
        return out

    def myself(self, time_zone: str) -> dict[str, Any]:
        """`/myself`: the bot user with the configured time zone."""
        out = dict(self.user(self.data.bot, time_zone=time_zone) or {})
        out["locale"] = "en_US"
        if not self.cloud:
            out["deleted"] = False
        return out

    def project(
        self, project: Project, *, detail: bool = False, expand: Iterable[str] = ()
    ) -> dict[str, Any]:
        """A project as in lists; `detail` adds what `GET /project/{key}` shows."""
        wanted = set(expand) | ({"description", "lead"} if detail else set())
        out: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": _avatars(
                f"{self.site}/secure/projectavatar?pid={project.id}&avatarId=", 10400
            ),
            "projectTypeKey": project.type_key,
        }
        if self.cloud:
            out |= {
                "simplified": project.style == "next-gen",
                "style": project.style,
                "isPrivate": project.private,
                "properties": {},
            }
        else:
            out["archived"] = project.archived
        if self.cloud and project.archived:
            # Cloud adds these to an archived project (Project in the REST v3 spec).
            out |= {"archived": True, "archivedDate": "2024-01-02T03:04:05.678+0000"}
        if "description" in wanted:
            out["description"] = project.description
        if "lead" in wanted:
            out["lead"] = self.user(project.lead)
        if detail:
            out["components"] = [self._component(c) for c in project.components]
        if detail or ("issueTypes" in wanted and self.cloud):
            out["issueTypes"] = [self._issuetype(t) for t in ISSUE_TYPES]
        if "projectKeys" in wanted:
            out["projectKeys"] = [project.key]
        # Cloud's project/search `expand=insight` (REST v3 "Get projects paginated": "insight
        # Returns the project insight, the total issue count and last issue update time");
        # Server has no insight; Server's docs do not list its project list's expansions, so
        # this fake's Server leaves issueTypes out of lists (the strictest reading).
        if "insight" in wanted and self.cloud:
            updates = [i.updated for i in self.data.issues.values() if i.project_key == project.key]
            out["insight"] = {"totalIssueCount": len(updates)}
            if updates:
                out["insight"]["lastIssueUpdateTime"] = self.time(max(updates))
        return out

    def issue(
        self, issue: Issue, fields: Sequence[str], expand: Iterable[str] = ()
    ) -> dict[str, Any]:
        """An issue with only `fields` under `fields` (no `fields` key when none).

        `expand`: `renderedFields` (the description as HTML and the dates as Jira shows them)
        and `changelog` (one history: the status change at `updated`, none while To Do), as
        Jira adds them per issue (REST "Search for issues using JQL", expand).
        """
        out: dict[str, Any] = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
        }
        getters = self._getters
        rendered = {name: getters[name](issue) for name in fields}
        if rendered.get("parent", True) is None:
            del rendered["parent"]  # Jira leaves `parent` out rather than null
        if fields:
            out["fields"] = rendered
        if "renderedFields" in expand:
            out["renderedFields"] = {
                "description": f"<p>{issue.description}</p>" if issue.description else None,
                "created": _shown_time(issue.created),
                "updated": _shown_time(issue.updated),
            }
        if "changelog" in expand:
            histories = [] if issue.status.name == "To Do" else [self._status_change(issue)]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        return out

    def _status_change(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": str(issue.id * 10),
            "author": self.user(issue.reporter or issue.creator),
            "created": self.time(issue.updated),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "from": "1",
                    "fromString": "To Do",
                    "to": issue.status.id,
                    "toString": issue.status.name,
                }
            ],
        }

    def field(self, field_id: str) -> dict[str, Any]:
        """`/field` entry for a field id."""
        for fid, name, navigable, schema in SYSTEM_FIELDS:
            if fid == field_id:
                return {
                    "id": fid,
                    "key": fid,
                    "name": name,
                    "custom": False,
                    "orderable": True,
                    "navigable": navigable,
                    "searchable": True,
                    "clauseNames": [fid],
                    "schema": schema,
                }
        if field_id == self.data.sprint_field:
            return self._sprint_field(field_id)
        custom = next(c for c in self.data.custom_fields if c.id == field_id)
        number = custom.id.removeprefix("customfield_")
        return {
            "id": custom.id,
            "key": custom.id,
            "name": custom.name,
            "untranslatedName": custom.name,
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{number}]", custom.name],
            "schema": custom.schema(),
        }

    def _sprint_field(self, field_id: str) -> dict[str, Any]:
        """`/field` entry of Jira Software's sprint field: objects on Cloud, strings on Server."""
        number = field_id.removeprefix("customfield_")
        return {
            "id": field_id,
            "key": field_id,
            "name": "Sprint",
            "untranslatedName": "Sprint",
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{number}]", "Sprint", "sprint"],
            "schema": {
                "type": "array",
                "items": "json" if self.cloud else "string",
                "custom": "com.pyxis.greenhopper.jira:gh-sprint",
                "customId": int(number),
            },
        }

    def _field_getters(self) -> dict[str, Callable[[Issue], Any]]:
        getters: dict[str, Callable[[Issue], Any]] = {
            "summary": lambda i: i.summary,
            "status": lambda i: self._status(i.status),
            "issuetype": lambda i: self._issuetype(i.issuetype),
            "project": self._issue_project,
            "priority": lambda i: {
                "self": f"{self.api}/priority/{i.priority.id}",
                "iconUrl": f"{self.site}/images/icons/priorities/{i.priority.name.lower()}.svg",
                "name": i.priority.name,
                "id": i.priority.id,
            },
            "assignee": lambda i: self.user(i.assignee),
            "reporter": lambda i: self.user(i.reporter),
            "creator": lambda i: self.user(i.creator),
            "components": lambda i: [self._component(c) for c in i.components],
            "fixVersions": lambda i: [self.version(v) for v in i.fix_versions],
            "labels": lambda i: list(i.labels),
            "parent": self._parent,
            "subtasks": lambda i: [self._link(self.data.issues[k]) for k in i.subtask_keys],
            "created": lambda i: self.time(i.created),
            "updated": lambda i: self.time(i.updated),
            "resolution": lambda i: (
                None
                if i.resolved is None
                else {
                    "self": f"{self.api}/resolution/10000",
                    "id": "10000",
                    "description": "Work has been completed on this issue.",
                    "name": "Done",
                }
            ),
            "resolutiondate": lambda i: self.time(i.resolved),
            "duedate": lambda i: i.duedate,
            "description": lambda i: self.text(i.description),
            "comment": lambda i: {
                "comments": [],
                "self": f"{self.api}/issue/{i.id}/comment",
                "maxResults": 0,
                "total": 0,
                "startAt": 0,
            },
        }
        for custom in self.data.custom_fields:
            getters[custom.id] = self._custom_getter(custom)
        render, sprint_field = self.data.render_sprints, self.data.sprint_field
        if render is not None and sprint_field is not None:
            getters[sprint_field] = lambda i: (
                render(i.custom[sprint_field], self.zone) if i.custom.get(sprint_field) else None
            )
        return getters

    def _custom_getter(self, custom: CustomField) -> Callable[[Issue], Any]:
        fid, kind = custom.id, custom.kind

        def get(issue: Issue) -> Any:
            value = issue.custom[fid]
            if value is None:
                return None
            if kind == "select":
                return self._option(value)
            if kind == "multiselect":
                return [self._option(o) for o in value]
            if kind == "labels":
                return list(value)
            if kind == "textarea":
                return self.text(value)
            if kind == "user":
                return self.user(value)
            return value

        return get

    def _option(self, option: Option) -> dict[str, Any]:
        return {
            "self": f"{self.api}/customFieldOption/{option.id}",
            "value": option.value,
            "id": option.id,
        }

    def _status(self, status: Status) -> dict[str, Any]:
        return {
            "self": f"{self.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.site}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{status.category_id}",
                "id": status.category_id,
                "key": status.category_key,
                "colorName": status.category_color,
                "name": status.category_name,
            },
        }

    def _issuetype(self, issuetype: IssueType) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.api}/issuetype/{issuetype.id}",
            "id": issuetype.id,
            "description": "",
            "iconUrl": f"{self.site}/images/icons/issuetypes/{issuetype.name.lower()}.svg",
            "name": issuetype.name,
            "subtask": issuetype.subtask,
        }
        if self.cloud:
            out["hierarchyLevel"] = issuetype.hierarchy
        return out

    def version(self, version: Version) -> dict[str, Any]:
        """A version as Jira shows it in lists and in an issue's `fixVersions` (REST `Version`)."""
        out: dict[str, Any] = {
            "self": f"{self.api}/version/{version.id}",
            "id": version.id,
            "description": version.description,
            "name": version.name,
            "archived": version.archived,
            "released": version.released,
        }
        if version.start_date:
            out["startDate"] = version.start_date
        if version.release_date:
            out["releaseDate"] = version.release_date
            out["overdue"] = not version.released and version.release_date < "2025-01-01"
            shown = datetime.strptime(version.release_date, "%Y-%m-%d")
            out["userReleaseDate"] = f"{shown:%d/%b/%y}"
        out["projectId"] = int(version.project_id)
        return out

    def _component(self, component: Component) -> dict[str, Any]:
        return {
            "self": f"{self.api}/component/{component.id}",
            "id": component.id,
            "name": component.name,
        }

    def _issue_project(self, issue: Issue) -> dict[str, Any]:
        project = self.data.project(issue.project_key)
        assert project is not None
        out: dict[str, Any] = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": project.type_key,
        }
        if self.cloud:
            out["simplified"] = project.style == "next-gen"
        return out

    def _parent(self, issue: Issue) -> dict[str, Any] | None:
        # Server has no epic parent (it uses an "Epic Link" field): parents are for sub-tasks.
        if issue.parent_key is None or not (self.cloud or issue.issuetype.subtask):
            return None
        return self._link(self.data.issues[issue.parent_key])

    def _link(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self._status(issue.status),
                "priority": self._getters["priority"](issue),
                "issuetype": self._issuetype(issue.issuetype),
            },
        }


def _avatars(prefix: str, avatar_id: int) -> dict[str, str]:
    return {f"{s}x{s}": f"{prefix}{avatar_id}&size={s}" for s in (48, 24, 16, 32)}


def _shown_time(epoch_ms: int) -> str:
    """A date as `renderedFields` shows it, e.g. `19/Dec/23 12:14 PM`."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%y %I:%M %p")
