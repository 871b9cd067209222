"""Plain service functions: the logic behind the views, called directly by tests and the CLI."""
