"""Ad and email platforms' own reports imported as published (docs/ad-platforms.md)."""
