"""Dialogs of the main window, all opened non-modally (`show()`): never a nested event loop."""
