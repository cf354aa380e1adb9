//! Load generation for the meshmeet relay: many WebSocket clients on loopback, spread over
//! rooms, exchanging `signal` messages at a steady rate while some leave and rejoin, with
//! every message checked for loss, duplication, misrouting and reordering.
//!
//! [`run`] drives one load run against one or several relay URLs (round-robin, so two relays
//! sharing a registry can be targeted together) or against the [`floor`] server, the bare
//! WebSocket forwarder that gives the cost of the stack without the protocol. [`bench`]
//! runs both side by side as child processes for `cargo xtask bench`.
//!
//! # What is counted, precisely
//!
//! Every signal carries `lg <sender slot> <sender id> <target id> <seq> <send ns>` in its
//! ICE `candidate` string (the relay carries it opaquely). Ids are peer ids, so every
//! *incarnation* of a client (one connection, one join) is its own sender and target; `seq`
//! counts from 1 per (sender, target) pair; `send ns` is read from the process's monotonic
//! clock, which senders and receivers share.
//!
//! - **delivered**: received by the target, checked and counted once.
//! - **misrouted**: received by a client that is not the named target, or whose relay-stamped
//!   `from` is not the named sender, or from a sender not in the receiver's room.
//! - **duplicated**: a (sender, target, seq) received a second time.
//! - **reordered**: a seq received after a higher one of the same pair.
//! - **lost**: sent but never received by the end of the run, unless *excused*. After the
//!   load the drain waits until everything sent has arrived, or until nothing has arrived
//!   for a second (at most `drain`, 20 s by default). A message is excused only when its target left: the sender was
//!   told `peer_left` for that target before the run ended. The relay processes one
//!   connection's messages in order, so everything a peer sent before it left must still
//!   arrive, and a target that never left must receive everything: neither is ever excused.
//!   Excused messages are reported as `excused`, beside `lost`.
//!
//! Frames a client reads after the run's finish instant are not counted at all, so peers
//! closing at the end cannot excuse anything.

#![warn(missing_docs)]

pub mod bench;
pub mod config;
pub mod floor;
mod pacer;
pub mod report;
mod run;
pub mod sys;

pub use config::{LoadConfig, Phase, Target};
pub use report::Report;
pub use run::run;
