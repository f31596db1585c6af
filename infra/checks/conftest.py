import sys
from pathlib import Path

# The tests import the shared loader (tfconfig) and the migration helper as plain modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
