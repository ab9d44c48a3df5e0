"""ASGI entry for process managers: ``uvicorn api.asgi:app_factory --factory --workers N``."""

from fastapi import FastAPI

from api.app import create_app


def app_factory() -> FastAPI:
    return create_app()
