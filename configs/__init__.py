"""Shipped configuration data (presets, segment maps, the sample config).

Installed inside the package as `crmkit.configs` through the `crmkit/configs` symlink.
"""
