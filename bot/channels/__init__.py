"""Channel adapters: each translates between one platform and the dialogue core."""
