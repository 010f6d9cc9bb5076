"""The rich console every table-printing command uses."""

from __future__ import annotations

import shutil
import sys


def console():
    from rich.console import Console

    # Off a terminal (pipes, CI logs) rich assumes 80 columns and folds every ARN; use a wide page.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    return Console(highlight=False, soft_wrap=True, width=width)
