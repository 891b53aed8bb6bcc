// Nothing to call: the target only defines `malloc_conf` for jemalloc (see allocator_config.c).
