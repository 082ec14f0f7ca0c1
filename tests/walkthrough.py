"""Run README's walk-through, block after block, against a live server, as a newcomer pastes it.

    .venv/bin/python tests/walkthrough.py http://127.0.0.1:8105 [--times 2]

The blocks run are the ```sh blocks README marks with `<!-- walk-through: ... -->`, in order, in
one bash with `set -euo pipefail` and a `curl` that fails on an HTTP error (so a step that answers
4xx/5xx stops the run, where a reader would only see an error body scroll by). The server must
share DATABASE_URL and DATA_KEY with this process's environment, since the blocks call
`.venv/bin/flask --app wsgi staff create`.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = "<!-- walk-through:"
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
"""


def blocks(readme_text):
    """The marked shell blocks of README, in order."""
    found = []
    for part in readme_text.split(MARKER)[1:]:
        match = _BLOCK.search(part)
        if match is None or part[: match.start()].count("\n") > 1:
            raise ValueError("a walk-through marker is not followed by a ```sh block")
        found.append(match.group(1))
    return found


def script(readme_text):
    """One bash script: the prelude, then every marked block."""
    return PRELUDE + "\n".join(blocks(readme_text))


def run(base, env=None, workdir=None, timeout=600):
    """Run the walk-through once in a scratch directory; returns the CompletedProcess (stdout, stderr as text)."""
    env = dict(os.environ if env is None else env)
    env["BASE"] = base
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as scratch:
        workdir = pathlib.Path(workdir or scratch)
        venv = workdir / ".venv"
        if not venv.exists():
            venv.symlink_to(ROOT / ".venv")  # the blocks say .venv/bin/flask, relative to the checkout
        text = script((ROOT / "README.md").read_text(encoding="utf-8"))
        return subprocess.run(["bash", "-c", text], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)


def main(argv=None):
    """Run the walk-through against BASE, N times; exit non-zero at the first failing run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--times", type=int, default=1)
    args = parser.parse_args(argv)
    for attempt in range(1, args.times + 1):
        result = run(args.base)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"\n=== run {attempt}: exit {result.returncode}", file=sys.stderr)
        if result.returncode:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
