import os
import sys
from pathlib import Path

# Test modules in every folder import shared helpers from tests/helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
