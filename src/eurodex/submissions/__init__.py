"""Public submissions: a page someone proposes becomes a candidate from an untrusted source."""
