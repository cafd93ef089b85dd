"""``python -m services.compliance.migrate``: bring compliance' database to the latest schema."""

from services.compliance.app import MIGRATIONS
from services.compliance.settings import ComplianceSettings
from shared.migrations import migrate_main

if __name__ == "__main__":
    migrate_main(ComplianceSettings(), MIGRATIONS)
