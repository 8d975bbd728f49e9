"""StreamScope's Qt window. Imports `core`'s public API only."""
