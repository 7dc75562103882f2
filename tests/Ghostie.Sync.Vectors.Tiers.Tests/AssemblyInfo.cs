// The pgvector tests share one PGlite server (it runs a single database session); tier tests are quick, so the
// whole assembly runs its test classes one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
