"""Facade renovation and showcase streets over HTTP (issue 11)."""

from fastapi import APIRouter

from api.facades import model_checks, progress, projects, routes

ROUTERS: list[APIRouter] = [routes.router, projects.router, model_checks.router, progress.router]
