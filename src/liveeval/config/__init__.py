"""The config file (`liveeval.toml`) and its environment overrides."""

from liveeval.config.settings import ModelPrice, Settings, load_settings

__all__ = ["ModelPrice", "Settings", "load_settings"]
