"""Shipped configuration data (presets, segment maps, sample config), installed as `crmkit.configs`."""
