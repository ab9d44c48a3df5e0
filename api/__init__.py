"""The platform's interfaces: the FastAPI app (thin routers) and the ``cim`` command, over ``cim_platform``."""
