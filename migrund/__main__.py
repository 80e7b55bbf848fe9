"""``python -m migrund``."""
from .cli import run

run()
