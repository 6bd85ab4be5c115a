"""Accounts: sign up, log in, settings, delete account, the gallery and data export."""
