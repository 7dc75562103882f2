// The bounded-memory conformance test samples the process's managed heap, and every class shares one PostgreSQL server.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
