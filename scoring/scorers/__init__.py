"""Built-in scorers, one module per family; imported by the registry on first use."""
