"""pygeoapi provider plugins over our stores, named by dotted path in the generated config."""
