"""The PostgreSQL search engine: one row per practice, a tsvector of our own analysers' terms, GIN indexes."""
