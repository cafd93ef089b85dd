import services.compliance.customers.models
import services.compliance.customs.models
import services.compliance.deliveries
import services.compliance.events
import services.compliance.items.models
import services.compliance.orders.logistics_models
import services.compliance.orders.models
import services.compliance.orders.summary_models
import services.compliance.rates.models
import services.compliance.setup.models  # noqa: F401
from services.compliance.base import Base
from shared.migrations import run_env

run_env(Base.metadata)
