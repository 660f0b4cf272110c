"""Reference lists used to prove officialness, shipped with their SOURCE.md licences."""
