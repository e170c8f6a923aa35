"""discord.py extensions: thin adapters from interactions to the core in `bot`."""
