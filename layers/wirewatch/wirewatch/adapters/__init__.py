"""Adapters: the only code that talks to the outside world (AWS in aws/, one machine in local/)."""
