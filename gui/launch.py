"""The `streamscope` console script: no arguments → the window (Qt imported only then);
a subcommand → the headless CLI in `core.cli`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _no_display() -> bool:
    """Qt aborts the process without a display; say so in one line instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in ("--window",):
        from core.cli.main import main as cli_main

        return cli_main(args)
    if _no_display():
        print(
            "streamscope: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
            "unset); run it in a desktop session or under xvfb-run, or use a command such as "
            "`streamscope probe --base-url mock ...` (see `streamscope --help`)",
            file=sys.stderr,
        )
        return 2
    from gui.app import main as app_main

    return app_main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
