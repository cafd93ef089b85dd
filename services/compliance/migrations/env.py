import services.compliance.items.models  # noqa: F401  (registers the tables on the metadata)
from services.compliance.base import Base
from shared.migrations import run_env

run_env(Base.metadata)
