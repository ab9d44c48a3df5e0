"""Accounts over HTTP: organisations, users, tokens, sign-in."""

from fastapi import APIRouter

from api.accounts import routes, sessions

ROUTERS: list[APIRouter] = [sessions.router, routes.router]
