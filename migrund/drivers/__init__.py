"""Database drivers: one module per engine behind the protocol in ``base``."""
