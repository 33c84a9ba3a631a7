"""tfnas-db package."""
