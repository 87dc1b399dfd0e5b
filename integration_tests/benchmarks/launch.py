"""Run a command; write its CPU seconds and peak RSS as JSON: launch.py USAGE.json -- COMMAND...

The benchmark starts every contender through this small process. Linux folds the RSS peak of
the process that forked a child into the child's `ru_maxrss` at exec, so a contender started
straight from the benchmark (which holds the whole fake Jira data set) would report the
benchmark's size instead of its own. Started from here, it inherits only this script's peak.
"""

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run `argv[2:]` (after `--`) with inherited stdio; return its exit code."""
    usage_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    with open(usage_path, "w") as out:
        json.dump(
            {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}, out
        )
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
