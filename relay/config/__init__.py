"""Configuration: YAML files with line numbers, environment substitution, pydantic models."""
from relay.config.errors import ConfigError, ConfigProblem
from relay.config.loader import load_config

__all__ = ["ConfigError", "ConfigProblem", "load_config"]
