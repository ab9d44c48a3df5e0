"""Accounts: organisations, users, passwords, API tokens and sign-in sessions."""
