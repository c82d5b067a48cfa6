"""Tenantry: a self-hostable, multi-tenant control plane wire-compatible with Composio's Projects API."""

__version__ = "0.1.0"
