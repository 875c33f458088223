"""The club's vocabulary and pure policy: enums, the access model, the rules, errors, settings.

The bottom layer: it imports neither strawberry, graphql-core, Starlette nor SQLAlchemy.
"""
