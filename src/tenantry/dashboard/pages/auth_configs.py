"""(being written)"""

from __future__ import annotations

from tenantry.dashboard.web import pages

router = pages()
