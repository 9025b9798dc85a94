"""Configuration: one ``Settings`` built at start-up and passed down."""

from config.settings import DEFAULT_TELEGRAM_API_URL, ConfigError, Settings, load_settings

__all__ = ["DEFAULT_TELEGRAM_API_URL", "ConfigError", "Settings", "load_settings"]
