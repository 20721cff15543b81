"""The lowest layer: errors with their locations, the one hardened YAML reader, structural
validation, and the record types that several layers share. Imports nothing of ossdx."""
