// Package remote moves blocking partitions between batchrun processes over
// Arrow Flight. A process that keeps partitions in its store serves them
// (Server, Flight DoGet: one ticket per subpartition); Partitions reads a
// task's inputs wherever they are, from its own store or from the process
// each Input.Locations entry names.
//
// It owns: the ticket format, the Flight service of partitions, a pool of
// Flight clients, and telling a lost remote partition (the holder does not
// have it, or cannot be reached) from other errors, so that recovery
// regenerates it.
//
// It must not: decide what runs (scheduler) or what a stage computes
// (physical); it knows partitions, not jobs.
//
// Stored batches are decoded on the serving side and sent as Arrow IPC
// record batches, so any Flight client can read a partition.
package remote
