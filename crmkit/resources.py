"""Locate data shipped with crmkit (the repository's `configs/`, installed as `crmkit.configs`)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def configs_dir() -> Traversable:
    """The shipped `configs/` folder: presets/, segment_maps/, sample.yaml."""
    return files("crmkit.configs")
