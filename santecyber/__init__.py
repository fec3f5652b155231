"""santecyber: an open knowledge graph of cyberattacks on French healthcare."""

__version__ = "0.1.0"
