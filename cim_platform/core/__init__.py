"""The core every domain stands on: settings, errors, database, access, audit, jobs, caches.

The core imports no domain (an import contract checks it)."""
