"""The customs profile as a declaration reads it: the seller's registrations every message names (the profile's
answer shows the same fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Parties(BaseModel):
    """The customs profile, as the declaration needs it (the profile's answer shows the same fields)."""

    model_config = ConfigDict(frozen=True, from_attributes=True, use_attribute_docstrings=True)

    ebc_code: str
    """The e-commerce company's (the seller's) customs registration code."""
    ebc_name: str
    """Its registered name."""
    agent_code: str
    """The declaring agent's (customs broker's) customs code."""
    agent_name: str
    """The declaring agent's registered name."""
    assure_code: str
    """The guarantor enterprise's code."""
    customs_code: str
    """The 4-digit code of the customs office declared to."""
    port_code: str
    """The 4-digit code of the port of entry or exit."""
    trade_mode: str
    """The customs mode: 9610 B2C direct, 1210 bonded or special area, 9710 B2B direct export, 9810 export to an
    overseas warehouse."""
    cop_code: str
    """The code of the enterprise transmitting the messages."""
    cop_name: str
    """Its name."""
    dxp_id: str
    """The ID on the customs data exchange platform messages are sent from."""
    ems_no: str | None
    """The bonded account book number (1210); null when none."""
    area_code: str | None
    """The special area's code (1210); null when none."""
    traf_mode: str
    """The customs transport mode code (5 air, 2 sea, 4 road, 6 post …)."""
    statistics_flag: str
    """Export: `A` the inventory list is the record; `B` a month's lists are summarised (CEB701)."""
    area_name: str | None
    """The special area's name (1210); null when none."""
    iac_code: str | None = None
    """1210 export: the code of the warehouse enterprise inside the special area (iacCode); null when none."""
    iac_name: str | None = None
    """1210 export: that enterprise's name (iacName); null when none."""
    owner_code: str | None = None
    """The producer's customs code (the export list's ownerCode); null: declared as `NO`, not registered."""
    owner_name: str | None = None
    """The producer's name (ownerName); null: the seller's (ebc_name)."""
