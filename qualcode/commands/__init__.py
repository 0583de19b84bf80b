"""CLI commands grouped by feature; each module has `register(cli)`. Only click at import time."""
