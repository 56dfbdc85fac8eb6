"""citebot's Discord bot and command line."""
