"""Screens: the five sections, their shared base, and the modal dialogs."""
