"""Commands that stop before any work, each run through the console entry point `main()` in one real process.

Each gets its own stdout and stderr at the file-descriptor level, so a word written anywhere (a warning, a
log handler, C code) counts, as on a terminal: one process start for all of them instead of one each.
"""

import json
import os
import subprocess
import sys

ENTRY_POINT = r"""
import json, os, sys, tempfile
from flows.cli import main

results = []
for args in json.loads(sys.argv[1]):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(), sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1), os.dup2(err.fileno(), 2)
        sys.argv = ["ganflow", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])
        out.seek(0), err.seek(0)
        results.append([code, out.read().decode(errors="replace"), err.read().decode(errors="replace")])
print(json.dumps(results))
"""


def ganflow_each(*commands: list[str], env: dict | None = None) -> list[subprocess.CompletedProcess]:
    """Each command as `ganflow COMMAND` would end: its exit code, stdout and stderr (see ENTRY_POINT)."""
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, json.dumps(commands)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0 and not done.stderr, done.stderr[-3000:]
    return [
        subprocess.CompletedProcess(c, code, out, err)
        for c, (code, out, err) in zip(commands, json.loads(done.stdout), strict=True)
    ]
