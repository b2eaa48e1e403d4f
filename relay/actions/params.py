"""Building blocks for action parameter models."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict


class MappingRef:
    """Field metadata: the value names a mapping, checked to exist when the config loads."""

    is_mapping_ref = True


MappingName = Annotated[str, MappingRef()]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
