"""The API fuzzer with many more examples than CI runs: ``tests/api/test_api_fuzz.py`` (every operation of
the app's OpenAPI document, anonymous and with a token of each role, against a real `cim serve` on a
real PostGIS) with a larger budget, a seed of your choice and, optionally, every schemathesis check.

    .venv/bin/python bench/fuzz_api.py                       # 200 examples per operation and role
    .venv/bin/python bench/fuzz_api.py --examples 1000 --seed 7 --all-checks -- -x -k "datasets"

Arguments after ``--`` go to pytest. Exit status: pytest's (0: nothing found).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="examples per operation and role (CI: 10)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: derandomized, as in CI)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take")
    parser.add_argument(
        "--all-checks",
        action="store_true",
        help="also positive_data_acceptance, and the known non-conformances CI skips",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    options = parser.parse_args()
    env = {
        **os.environ,
        "CIM_FUZZ_EXAMPLES": str(options.examples),
        "CIM_FUZZ_TIMEOUT_S": str(options.timeout),
        "CIM_FUZZ_ALL_CHECKS": "1" if options.all_checks else "0",
    }
    if options.seed is not None:
        env["CIM_FUZZ_SEED"] = str(options.seed)
    command = [sys.executable, "-m", "pytest", "tests/api/test_api_fuzz.py", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "timeout=0", *options.pytest_args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
