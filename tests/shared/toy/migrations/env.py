from shared.migrations import run_env
from tests.shared.toy.service import Base

run_env(Base.metadata)
