"""crmkit: customer analytics from the exports a business already has.

The library is usable on its own: `crmkit.Workspace(path)` opens a workspace and gives every
table as a polars LazyFrame plus the analyses the CLI offers. It never prints or exits.
"""

from __future__ import annotations

__version__ = "0.1.0"

from crmkit.errors import CrmkitError
from crmkit.workspace import Workspace

__all__ = ["CrmkitError", "Workspace", "__version__"]
