"""Secrets at rest: envelope encryption with AES-256-GCM.

Every project has one random 32-byte data key. Its secrets (auth-config secrets, connected-
account credentials) are sealed under that key by `service.seal`; the data key is stored only
wrapped under a master key (`keyring`), in `project_data_keys`. Rotating the master key
(`rotation.rotate`, `tenantry keys rotate`) rewraps data keys and never touches a sealed secret.
"""
