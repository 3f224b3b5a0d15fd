"""The unit-year workplace: dataset versions, checks, tables, texts, builds and jobs."""
