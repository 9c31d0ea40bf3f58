//! The measuring programs of Edge Pub/Sub, each on its own local Pushpin + Viceroy stacks
//! (started through `pubsub_devstack`). None is part of `scripts/test.sh`: they take
//! minutes and report figures (see `docs/performance.md`).
//!
//! | Binary | Script | Measures |
//! |---|---|---|
//! | `pubsub-bench` | `scripts/bench.sh` | Viceroy's CPU time per request, current module against a baseline revision |
//! | `pubsub-soak` | `scripts/soak.sh` | thousands of subscribers over minutes: every message exactly once, publish→deliver latency, memory and CPU |
//! | `pubsub-idle-cost` | `scripts/idle-cost.sh` | the app requests Pushpin makes for connections that do nothing |
//! | `pubsub-wildcard-cost` | `scripts/wildcard-cost.sh` | what wildcard subscriptions add to a publish |
//!
//! The library holds what more than one of them reads:
//!
//! - [`cpu`]: the CPU time a process spends, from `/proc` (`pubsub-bench`,
//!   `pubsub-wildcard-cost`).
//!
//! Native and Linux only; loopback only; every process a program starts stops when it ends.

pub mod cpu;
