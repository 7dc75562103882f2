// The bounded-memory conformance test samples the process's managed heap, and every class shares one Azurite.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
