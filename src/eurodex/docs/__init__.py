"""Documents the web app publishes (the methodology)."""
