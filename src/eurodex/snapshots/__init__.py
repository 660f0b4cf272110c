"""Offline snapshots of real catalogues, shipped with their SOURCE.md licences."""
