"""Storage: the SQLite database, its migrations, and one store per kind of record."""
