"""Widgets: the transcript view, the code panel, side read-outs, charts and the navigation bar."""
