#!/usr/bin/env bash
# Build the connector image with podman and run it as the Airbyte platform runs connectors:
# `spec`, `check`, `discover` and `read` (then an incremental `read` from the first one's state)
# against the fake Jira, Cloud and Server, on the host network; then `destination-port check` and
# `write` from the same image into the fake Port. Any failure exits non-zero with a message.
#
#   sudo bash scripts/image_test.sh                 # install podman if needed, build, test
#   IMAGE_TEST_SKIP_BUILD=1 bash scripts/image_test.sh   # test the image already built
#   BASE_IMAGE=registry.example/python-connector-base:4.0.2 bash scripts/image_test.sh
#
# Needs root on Debian 12 (apt). No Docker engine is used: podman with runc runs the image.
# When Dockerfile's base image cannot be pulled (Docker Hub unreachable), a stand-in base
# (Debian bookworm's Python 3.11 with an `airbyte` user of uid 1000) is built with debootstrap
# once and kept as localhost/local-python-base:3.11.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=airbyte/source-jira-port:dev
STANDIN_BASE=localhost/local-python-base:3.11
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PULL_TIMEOUT=${PULL_TIMEOUT:-60}
ISSUES=120 # issues in each fake Jira
PROJECTS=3

fail() {
  printf '\nimage_test: FAILED: %s\n' "$*" >&2
  exit 1
}
phase() { printf '\n== [%4ss] %s\n' "$SECONDS" "$*"; }

[[ $EUID -eq 0 ]] || fail "run as root (podman builds and runs the image rootful)"

WORK=$(mktemp -d)
FAKE_PIDS=()
cleanup() {
  local pid
  for pid in "${FAKE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# -- tools ------------------------------------------------------------------------------------
phase "tools: podman, runc, debootstrap"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
  ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  # runc, not crun: crun fails here (cgroups in hybrid mode, setrlimit without CAP_SYS_RESOURCE).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap >/dev/null
fi
podman --version

# runc with cgroupfs, and ulimits the container may set without CAP_SYS_RESOURCE. Every build and
# run says `--network host`: the fakes listen on the host's 127.0.0.1.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$WORK/containers.conf

# The fakes and the standard suite run on the host, from the project's venv (scripts/test.sh).
if ! .venv/bin/python -c 'import pytest, integration_tests.fakes' 2>/dev/null; then
  phase "host venv for the fakes and the standard suite"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet -e '.[dev]'
fi

# -- image --------------------------------------------------------------------------------------
build_standin_base() {
  local rootfs=$WORK/rootfs
  local -a site_cas=()
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap failed; see its log: $(tail -5 "$WORK/debootstrap.log")"
  ln -sf python3 "$rootfs/usr/bin/python"
  chroot "$rootfs" useradd --uid 1000 --create-home --shell /bin/bash airbyte
  # A TLS-intercepting egress proxy's CA must be trusted inside too, for pip in the build.
  shopt -s nullglob
  site_cas=(/usr/local/share/ca-certificates/*.crt)
  shopt -u nullglob
  if ((${#site_cas[@]})); then
    cp "${site_cas[@]}" "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'CMD ["/bin/bash"]' \
    - "$STANDIN_BASE" >/dev/null
}

if [[ -z ${IMAGE_TEST_SKIP_BUILD:-} ]]; then
  phase "base image"
  real_base=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)
  [[ -n $real_base ]] || fail "no 'ARG BASE_IMAGE=' default in Dockerfile"
  if [[ -n ${BASE_IMAGE:-} ]]; then
    base=$BASE_IMAGE
  elif podman image exists "$real_base" ||
    timeout "$PULL_TIMEOUT" podman pull -q "$real_base" >/dev/null 2>"$WORK/pull.log"; then
    base=$real_base
  else
    echo "cannot pull $real_base: $(tail -1 "$WORK/pull.log" 2>/dev/null || echo timed out)"
    base=$STANDIN_BASE
    if podman image exists "$STANDIN_BASE"; then
      echo "using the cached stand-in $STANDIN_BASE"
    else
      echo "building the stand-in $STANDIN_BASE with debootstrap"
      build_standin_base
    fi
  fi
  echo "base: $base"

  phase "build $IMAGE"
  # Also tagged docker.io/..., the name the docker CLI gives `airbyte/...` through podman's API.
  podman build --network host --build-arg "BASE_IMAGE=$base" \
    --tag "$IMAGE" --tag "docker.io/$IMAGE" --file Dockerfile . >"$WORK/build.log" 2>&1 ||
    fail "podman build failed: $(tail -20 "$WORK/build.log")"
fi
podman image exists "$IMAGE" || fail "no image $IMAGE; build it first"

# -- fakes --------------------------------------------------------------------------------------
# start_fake NAME MODULE [ARGS...]: run a fake from the host venv and wait for its JSON line.
start_fake() {
  local name=$1 module=$2
  shift 2
  .venv/bin/python -m "$module" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  FAKE_PIDS+=($!)
  local _
  for _ in $(seq 100); do
    [[ -s $WORK/$name.out ]] && return 0
    kill -0 "$!" 2>/dev/null || fail "$name exited: $(cat "$WORK/$name.err")"
    sleep 0.1
  done
  fail "$name printed nothing in 10 s"
}

DATA=$WORK/data # mounted read-only at /data; readable by the image's uid 1000
mkdir -p "$DATA"
chmod 755 "$WORK" "$DATA"

phase "fakes: Jira Cloud, Jira Server, Port"
fake_args=(--issues "$ISSUES" --projects "$PROJECTS")
start_fake jira-cloud integration_tests.fakes.jira_server --deployment cloud "${fake_args[@]}"
start_fake jira-server integration_tests.fakes.jira_server --deployment server "${fake_args[@]}"
start_fake port integration_tests.fakes.port_server
PORT_PID=${FAKE_PIDS[-1]}

# The acceptance configs with the live fakes' URLs, an incremental catalog, the Port config.
.venv/bin/python - "$WORK" "$DATA" <<'EOF'
import json, sys
from pathlib import Path

work, data = Path(sys.argv[1]), Path(sys.argv[2])
for deployment in ("cloud", "server"):
    fake = json.loads((work / f"jira-{deployment}.out").read_text().splitlines()[0])
    config = json.loads(Path(f"integration_tests/{deployment}_config.json").read_text())
    (data / f"{deployment}.json").write_text(json.dumps(config | {"jira_url": fake["base_url"]}))
streams = []
for name in ("projects", "issues"):
    incremental = name == "issues"
    streams.append({
        "stream": {"name": name, "json_schema": {},
                   "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": "incremental" if incremental else "full_refresh",
        "destination_sync_mode": "append_dedup" if incremental else "overwrite",
        "cursor_field": ["updated"] if incremental else None,
        "primary_key": [["id"]],
    })
(data / "catalog.json").write_text(json.dumps({"streams": streams}))
port = json.loads((work / "port.out").read_text().splitlines()[0])
(data / "port.json").write_text(json.dumps({
    "port_client_id": port["client_id"], "port_client_secret": port["client_secret"],
    "port_base_url": port["base_url"], "delete_missing_entities": True,
}))
EOF
chmod 644 "$DATA"/*.json

# -- the connector, as `docker run` in the platform ---------------------------------------------
# run_image OUTPUT [PODMAN RUN OPTIONS...] -- ARGS...: run the image, stdout into OUTPUT.
run_image() {
  local output=$1
  shift
  local -a options=()
  while [[ $1 != -- ]]; do
    options+=("$1")
    shift
  done
  shift
  podman run --rm --network host -v "$DATA:/data:ro" "${options[@]}" "$IMAGE" "$@" \
    >"$output" 2>"$output.err"
}

# expect_messages OUTPUT WHAT [ARGS...]: check the Airbyte messages in OUTPUT, print a summary.
expect_messages() {
  .venv/bin/python - "$@" <<'EOF' || fail "$2 in $(basename "$1"): see above"
import json, sys
from collections import Counter
from pathlib import Path

path, what, *args = sys.argv[1:]
messages = []
for line in Path(path).read_text().splitlines():
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if isinstance(message, dict) and "type" in message:
        messages.append(message)
kinds = Counter(m["type"] for m in messages)

def problem(text):
    errors = [m["trace"]["error"]["message"] for m in messages
              if m["type"] == "TRACE" and m["trace"].get("error")]
    print(f"  {what}: {text}; messages {dict(kinds)}; errors {errors}", file=sys.stderr)
    sys.exit(1)

def records(stream):
    return [m for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]

def states(stream):
    return [m for m in messages if m["type"] == "STATE"
            and m["state"]["stream"]["stream_descriptor"]["name"] == stream]

if what == "spec":
    specs = [m["spec"] for m in messages if m["type"] == "SPEC"]
    if len(specs) != 1 or "properties" not in specs[0]["connectionSpecification"]:
        problem("not exactly one SPEC with a connectionSpecification")
    print(f"  SPEC: {sorted(specs[0]['connectionSpecification']['properties'])}")
elif what == "check":
    statuses = [m["connectionStatus"]["status"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    if statuses != ["SUCCEEDED"]:
        problem(f"CONNECTION_STATUS {statuses}, wanted SUCCEEDED")
    print("  CONNECTION_STATUS: SUCCEEDED")
elif what == "discover":
    catalogs = [m["catalog"] for m in messages if m["type"] == "CATALOG"]
    names = sorted(s["name"] for s in catalogs[0]["streams"]) if catalogs else []
    # teams needs atlassian_organization_id, which these configs leave out
    wanted = ["backlog", "boards", "components", "epics", "issues", "projects", "releases",
              "sprints", "users", "worklogs"]
    if names != wanted:
        problem(f"CATALOG streams {names}, wanted {', '.join(wanted)}")
    print(f"  CATALOG: {names}")
elif what == "read":  # read MIN_PROJECTS MIN_ISSUES [MAX_ISSUES]
    counts = {s: len(records(s)) for s in ("projects", "issues")}
    for stream, minimum in zip(("projects", "issues"), map(int, args)):
        if counts[stream] < minimum:
            problem(f"{counts[stream]} {stream} records, wanted at least {minimum}")
        if not states(stream):
            problem(f"no STATE for {stream}")
    if len(args) > 2 and counts["issues"] > int(args[2]):
        problem(f"{counts['issues']} issues records, wanted at most {args[2]} (incremental)")
    print(f"  RECORDs: {counts}; STATEs: {kinds['STATE']}")
elif what == "state":  # print the last STATE of each stream as a --state file
    latest = {}
    for m in messages:
        if m["type"] == "STATE":
            latest[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
    print(json.dumps([{"type": "STREAM", **{k: v for k, v in s.items() if k != "sourceStats"}}
                      for s in latest.values()]))
elif what == "write":  # write SOURCE_OUTPUT: every source STATE echoed, in order
    sent = [m["state"] for m in json.loads(Path(args[0]).read_text() or "[]")]
    echoed = [m["state"]["stream"] for m in messages if m["type"] == "STATE"]
    for stream in echoed:  # the writer stamps its mapping fingerprint on what it echoes
        stream["stream_state"].pop("mapping_fingerprint", None)
    if [s["stream"] for s in sent] != echoed:
        problem(f"{len(echoed)} STATEs echoed of {len(sent)} sent")
    print(f"  STATEs echoed: {len(echoed)}")
else:
    problem("unknown expectation")
EOF
}

# source_states OUTPUT FILE: the STATE messages of a read, as JSON, for `expect_messages write`.
source_states() {
  .venv/bin/python -c '
import json, sys
print(json.dumps([json.loads(line) for line in open(sys.argv[1])
                  if line.startswith("{") and json.loads(line)["type"] == "STATE"]))' "$1" >"$2"
}

for deployment in cloud server; do
  out=$WORK/$deployment
  phase "source ($deployment): spec, check, discover, read"
  run_image "$out-spec.jsonl" -- spec || fail "spec exited $?: $(tail -3 "$out-spec.jsonl.err")"
  expect_messages "$out-spec.jsonl" spec
  run_image "$out-check.jsonl" -- check --config "/data/$deployment.json" ||
    fail "check ($deployment) exited non-zero: $(tail -3 "$out-check.jsonl.err")"
  expect_messages "$out-check.jsonl" check
  run_image "$out-discover.jsonl" -- discover --config "/data/$deployment.json" ||
    fail "discover ($deployment) exited non-zero: $(tail -3 "$out-discover.jsonl.err")"
  expect_messages "$out-discover.jsonl" discover
  run_image "$out-read.jsonl" -- read --config "/data/$deployment.json" \
    --catalog /data/catalog.json ||
    fail "read ($deployment) exited non-zero: $(tail -3 "$out-read.jsonl.err")"
  if [[ $deployment == cloud ]]; then
    expect_messages "$out-read.jsonl" read "$PROJECTS" "$ISSUES" # every project and issue
  else
    expect_messages "$out-read.jsonl" read 1 1 # the config's project filter: some of them
  fi

  phase "source ($deployment): read again from the first read's state"
  expect_messages "$out-read.jsonl" state >"$DATA/$deployment-state.json"
  chmod 644 "$DATA/$deployment-state.json"
  run_image "$out-read2.jsonl" -- read --config "/data/$deployment.json" \
    --catalog /data/catalog.json --state "/data/$deployment-state.json" ||
    fail "incremental read ($deployment) exited non-zero: $(tail -3 "$out-read2.jsonl.err")"
  expect_messages "$out-read2.jsonl" read 1 0 $((ISSUES / 10)) # the cursor is inclusive: a few at most
done

phase "destination-port (same image): spec, check, write the Cloud read into the fake Port"
run_image "$WORK/dest-spec.jsonl" --entrypoint destination-port -- spec ||
  fail "destination-port spec exited non-zero: $(tail -3 "$WORK/dest-spec.jsonl.err")"
expect_messages "$WORK/dest-spec.jsonl" spec
run_image "$WORK/dest-check.jsonl" --entrypoint destination-port -- check \
  --config /data/port.json ||
  fail "destination-port check exited non-zero: $(tail -3 "$WORK/dest-check.jsonl.err")"
expect_messages "$WORK/dest-check.jsonl" check
run_image "$WORK/dest-write.jsonl" -i --entrypoint destination-port -- write \
  --config /data/port.json --catalog /data/catalog.json <"$WORK/cloud-read.jsonl" ||
  fail "destination-port write exited non-zero: $(tail -3 "$WORK/dest-write.jsonl.err")"
source_states "$WORK/cloud-read.jsonl" "$WORK/cloud-states.json"
expect_messages "$WORK/dest-write.jsonl" write "$WORK/cloud-states.json"

kill -TERM "$PORT_PID"
wait "$PORT_PID" || true
counts=$(tail -1 "$WORK/port.out")
echo "  fake Port: $counts"
.venv/bin/python -c '
import json, sys
counts = json.loads(sys.argv[1])["entities"]
wanted = {"jiraProject": int(sys.argv[2]), "jiraIssue": int(sys.argv[3])}
found = {blueprint: counts.get(blueprint) for blueprint in wanted}
# Bare jiraUser entities (assignee and reporter relation targets) come along.
ok = found == wanted and counts.get("jiraUser", 0) > 0
sys.exit(0 if ok else f"  Port entities {counts}, wanted {wanted} and some jiraUser")' \
  "$counts" "$PROJECTS" "$ISSUES" || fail "the fake Port does not hold every project and issue"

# -- Airbyte's standard image tests -------------------------------------------------------------
# They shell out to `docker run` without --network: this `docker` is podman with `run` on the
# host network, where the suite's own fakes listen. (The docker CLI through `podman system
# service` cannot do that: its compat API puts containers on a bridge, whatever containers.conf
# says, and the connector then retries the unreachable fake for many minutes.)
phase "standard suite: image_tests against $IMAGE"
mkdir -p "$WORK/bin"
cat >"$WORK/bin/docker" <<'SHIM'
#!/usr/bin/env bash
if [[ ${1:-} == run ]]; then
  shift
  exec podman run --network host "$@"
fi
exec podman "$@"
SHIM
chmod +x "$WORK/bin/docker"
PATH=$WORK/bin:$PATH .venv/bin/python -m pytest integration_tests/test_standard_suite.py \
  -m image_tests --connector-image "$IMAGE" --read-from-streams=all \
  --read-scenarios=cloud_config,server_config -p no:cacheprovider -q -rs ||
  fail "the standard suite's image tests failed"

phase "image test passed"
