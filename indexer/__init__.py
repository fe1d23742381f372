"""morgue's indexer: sources → cleaning → analysis and schema → writing, and the read API
(:class:`indexer.search.Archive`) that the web app and the command line share."""
