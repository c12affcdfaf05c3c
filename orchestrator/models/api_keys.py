"""API keys and the role each carries (what the API layer lets its holder do)."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    timestamp_field,
)

__all__ = ["ApiKey", "ApiKeyPublic", "Role"]


class Role(StrEnum):
    """What an API key may do (enforced by the API layer)."""

    PLANNER = "planner"
    CUSTOMER = "customer"
    ANALYST = "analyst"
    ADMIN = "admin"
    COURIER = "courier"
    """A commuter who carries parcels on their way: their own trips and offers only."""


class ApiKey(StorableModel, table=True):
    """Table ``api_keys``: only the sha256 of a key is kept, and its first characters.

    A key belongs to a retailer (``retailer_id``: it sees only that retailer's rows) or to
    the carrier (``None``: every retailer's). A customer's key belongs to its customer's
    retailer.
    """

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, description="First characters, to recognise a key.")
    key_hash: str = Field(max_length=64, unique=True, description="sha256 hex of the key.")
    role: Role = enum_field(Role)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", ondelete="CASCADE")
    courier_id: int | None = Field(default=None, foreign_key="couriers.id", ondelete="CASCADE")
    retailer_id: int | None = Field(
        default=None,
        foreign_key="retailers.id",
        index=True,
        description="The retailer a key belongs to; none: the carrier's (sees every retailer).",
    )
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field(default=None)


class ApiKeyPublic(StorableModel):
    """An API key as shown (never the key itself)."""

    id: int
    prefix: str
    role: Role
    customer_id: int | None
    courier_id: int | None = None
    retailer_id: int | None = None
    created_at: datetime
    revoked_at: datetime | None

    model_config = example_config(
        id=1,
        prefix="lmk_3f9a",
        role="planner",
        customer_id=None,
        retailer_id=None,
        created_at="2025-03-01T08:00:00Z",
        revoked_at=None,
    )
