"""Background jobs on procrastinate (PostgreSQL): the platform keeps the user-facing state in its own
``jobs`` table; procrastinate is an implementation detail that distributes work to any number of
workers sharing the database. Domains register their job kinds (``registry.job_kind``)."""
