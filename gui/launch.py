"""The `streamscope` console script: no arguments → the window (Qt imported only then);
a subcommand → the headless CLI in `core.cli`."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in ("--window",):
        from core.cli import main as cli_main

        return cli_main(args)
    from gui.app import main as app_main

    return app_main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
