"""代发 (benefit disbursement) in the web app: the state in the database, the pages, the commands."""
