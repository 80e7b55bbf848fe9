"""Bringing another tool's project over: its migration files (``sources``, ``emit``) and its history table (``history``).

Pure code reads the tool's folder into migrund migrations and reports what it cannot
map; ``commands.adopting`` writes them and, when asked, records the tool's applied
versions as applied.
"""
