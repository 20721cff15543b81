# The knowledge base is YAML only; this file makes the folder the package data
# 'ossdx.knowledge_base', found with importlib.resources in a wheel and in an editable install.
