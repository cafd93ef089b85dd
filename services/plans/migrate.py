"""``python -m services.plans.migrate``: bring plans' database to the latest schema."""

from services.plans.app import MIGRATIONS
from services.plans.settings import PlansSettings
from shared.migrations import migrate_main

if __name__ == "__main__":
    migrate_main(PlansSettings(), MIGRATIONS)
