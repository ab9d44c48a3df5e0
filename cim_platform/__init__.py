"""The CIM platform: settings, database, domain services, job queue and tile storage."""

__version__ = "0.1.0"
