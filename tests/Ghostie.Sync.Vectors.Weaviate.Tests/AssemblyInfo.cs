// One test sets WEAVIATE_API_KEY in the process environment; the classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
