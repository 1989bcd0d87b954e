"""`python -m cnn_core.training ...`: the command-line trainer (see cli.py)."""
from cnn_core.training.cli import main

if __name__ == "__main__":
    main()
