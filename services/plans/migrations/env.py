import services.plans.identity.models  # noqa: F401  (registers the tables on the metadata)
from services.plans.base import Base
from shared.migrations import run_env

run_env(Base.metadata)
