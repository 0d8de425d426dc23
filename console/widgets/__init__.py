"""The console's widgets, one module each; import a widget from its own module."""
