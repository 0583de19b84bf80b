"""The Textual app: screens (one per section and the dialogs) and the widgets they are built from."""
