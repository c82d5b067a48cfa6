"""The dashboard's pages, one module per area, each with its own `router` (tenantry.dashboard.web.pages).

Every page calls the same service the API route for that change calls, with the signed-in member's
Principal, so roles, audit events and cache invalidation are the API's own.
"""
