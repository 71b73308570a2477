//! Herald's engine: the semantics of Jakarta Messaging (JMS 2.0 / 3.1) in one crate.
//!
//! # Layout
//!
//! Modules in the order data flows, from the application down to storage:
//!
//! - [`client`]: the client API (`Connection`, `Session`, `Producer`, `Consumer`,
//!   `Browser`) that Rust programs, the server, the JNI and the C bindings all call.
//! - `session`: acknowledgement modes, transactions, what a session holds unacknowledged.
//! - [`broker`]: the broker handle, destinations by name, client IDs, the sweeper that
//!   promotes delayed messages and expires old ones.
//! - `queue`: one message store with competing consumers, credit-based dispatch, priority,
//!   expiry, redelivery and dead-lettering; both queues and topic subscriptions are one.
//! - `topic`: fan-out of each message to the topic's subscriptions.
//! - [`destination`]: queue/topic names and kinds.
//! - [`message`]: headers, typed properties with the JMS conversion table, bodies.
//! - [`selector`]: the JMS selector language.
//! - [`journal`]: what the broker writes down, behind a trait.
//! - [`error`]: the one error type, whose kinds every binding mirrors.
//! - [`wire`]: the frames a server and a `tcp://` client exchange.

pub mod broker;
pub mod client;
pub mod destination;
pub mod error;
pub mod journal;
pub mod message;
mod paging;
mod queue;
pub mod selector;
mod session;
mod topic;
pub mod wire;

pub use broker::{Broker, BrokerConfig, DestinationStats};
pub use destination::{Destination, DestinationKind};
pub use error::{Error, ErrorKind, Result};
pub use message::{Body, DeliveryMode, Delivery, Message, MessageId, Value};
