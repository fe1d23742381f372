"""The sharded backend: the archive in Xapian databases (shards), local or served over
TCP by ``xapian-tcpsrv``, searched as one. It keeps morgue's own analysis, query
language, highlighting and spelling, and swaps only storage and matching."""
