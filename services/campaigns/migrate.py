"""``python -m services.campaigns.migrate``: bring campaigns' database to the latest schema."""

from services.campaigns.app import MIGRATIONS
from services.campaigns.settings import CampaignsSettings
from shared.migrations import migrate_main

if __name__ == "__main__":
    migrate_main(CampaignsSettings(), MIGRATIONS)
