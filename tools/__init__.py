"""Maintainer commands: not part of the installed peacebot (see README, Tests)."""
