"""The review queue: curators, their sessions, and the decisions they record (methodology 3)."""
