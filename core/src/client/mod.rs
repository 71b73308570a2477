//! The client API: the one API that Rust programs, the server, the JNI and the C
//! bindings call.
//!
//! Calls block and take timeouts; no async runtime is needed. Each handle has one owner
//! and is closed by `close()` or by dropping it. Every handle is `Send + Sync`, though
//! JMS expects a session and what it created to be used by one thread at a time.
//!
//! ```
//! use herald_core::client::{AckMode, Connection, ConnectOptions};
//! use herald_core::{Destination, Message};
//! use std::time::Duration;
//!
//! let connection = Connection::open("vm://doc-example", &ConnectOptions::default()).unwrap();
//! connection.start().unwrap();
//! let session = connection.create_session(AckMode::Auto).unwrap();
//! let orders = Destination::queue("orders");
//! let producer = session.create_producer(Some(orders.clone())).unwrap();
//! producer.send(Message::text("hello")).unwrap();
//! let consumer = session.create_consumer(&orders, &Default::default()).unwrap();
//! let got = consumer.receive_timeout(Duration::from_secs(1)).unwrap().unwrap();
//! assert_eq!(got.text_body(), Some("hello"));
//! ```

mod browser;
mod connection;
mod consumer;
mod producer;
mod remote;
mod session;
#[cfg(feature = "tls")]
mod tls;
mod vm;

pub use crate::queue::Wakeup;
pub use crate::session::{AckMode, DUPS_OK_BATCH};
pub use browser::Browser;
pub use connection::{ConnectOptions, Connection};
pub use consumer::{Consumer, ConsumerOptions, SubscriptionOptions};
pub use producer::{Producer, SendOptions, Sent};
pub use session::{PendingSend, Session};
pub use vm::{vm_broker, vm_shutdown, VmConfig};
