"""Print the table of bad configuration values and the one line each prints (markdown).

Runs the cases of tests/test_config_errors.py through `manage.py check`, one subprocess each:
    .venv/bin/python scripts/config_errors_table.py > config-errors-table.md
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_config_errors import CASES, FREE_TEXT, case_env, manage_check, prepare


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def main() -> None:
    print("| variable / IdP key | bad value tried | exit | the one line printed |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        prepare(Path(folder))
        for case in CASES:
            result = manage_check(case_env(case, Path(folder)))
            tried = "; ".join(f"{k}={v}" for k, v in {**case.env, **case.extra}.items())
            line = " ⏎ ".join(result.stderr.strip().splitlines())
            name = case.name.split("=")[0]
            print(f"| {name} | {_cell(tried)} | {result.returncode} | {_cell(line)} |")
    print()
    print("Free text, where any value is valid:", ", ".join(f"`{n}`" for n in sorted(FREE_TEXT)))


if __name__ == "__main__":
    main()
