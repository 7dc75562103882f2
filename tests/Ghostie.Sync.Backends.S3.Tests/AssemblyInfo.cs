// The conformance suite samples the managed heap, and the moto tests switch moto's authentication on and off:
// tests in this assembly run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
