import services.campaigns.events
import services.campaigns.models  # noqa: F401  (registers every table on Base.metadata)
from services.campaigns.base import Base
from shared.migrations import run_env

run_env(Base.metadata)
