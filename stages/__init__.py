"""Built-in stages of the MDFS recipe: collection, coarse, quality, dedup, fine."""
