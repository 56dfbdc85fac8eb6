"""Pytest fixtures of the fake Discord server."""
