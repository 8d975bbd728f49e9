"""The headless commands (DESIGN §6): `streamscope diagnose|probe|profiles|serve-mock`."""

from core.cli.main import main

__all__ = ["main"]
