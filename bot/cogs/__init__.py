"""One feature per cog."""
