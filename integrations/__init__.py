"""CalDAV publishing, ICS files and subscription feeds."""
