"""``python -m geoportal`` runs the CLI."""

from geoportal.cli import main

main()
