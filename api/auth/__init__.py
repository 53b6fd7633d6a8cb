"""Authentication and authorisation of the facade: accounts in Secrets, JWTs, API keys, roles, rate limits.

See api/README.md ("Identity and state") and the modules: accounts, crypto, roles, ratelimit, service, routes.
"""
