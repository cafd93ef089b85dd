import services.plans.customer_status.models
import services.plans.events
import services.plans.execution.models
import services.plans.identity.models
import services.plans.outcomes.models
import services.plans.planning.models
import services.plans.sbus.models
import services.plans.strategy.models
import services.plans.tactics.models  # noqa: F401  (registers the tables on the metadata)
from services.plans.base import Base
from shared.migrations import run_env

run_env(Base.metadata)
