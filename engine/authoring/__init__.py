"""Tools for educators: lint (``ossdx validate``), coverage, the knowledge graph and
evaluation over case files. Imports the layers below it, never the CLI."""
