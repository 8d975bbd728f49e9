"""The window's widgets: each takes data through slots and knows no sibling."""
