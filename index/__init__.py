"""citebot's indexer and answer engine: articles in, verbatim quotes with citations out."""
