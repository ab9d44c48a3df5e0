"""Accounts over HTTP: organisations, users, tokens, sign-in."""

from fastapi import APIRouter

from api.accounts import routes

ROUTERS: list[APIRouter] = [routes.router]
