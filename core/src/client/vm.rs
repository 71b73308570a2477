//! `vm://NAME`: brokers living in this process, created on first use.
//!
//! A named broker lives until the process exits, like an embedded broker a server
//! would run, so messages left on a queue outlive the connection that sent them.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::broker::{Broker, BrokerConfig};
use crate::error::{Error, Result};
use crate::queue::lock;

/// How an in-process broker is built when a `vm://` URL first names it.
pub struct VmConfig {
    pub broker: BrokerConfig,
}

fn registry() -> &'static Mutex<HashMap<String, Broker>> {
    static BROKERS: OnceLock<Mutex<HashMap<String, Broker>>> = OnceLock::new();
    BROKERS.get_or_init(Mutex::default)
}

/// The in-process broker called `name`, started with `make()` if it does not exist yet.
pub fn vm_broker(name: &str, make: impl FnOnce() -> Result<VmConfig>) -> Result<Broker> {
    if name.is_empty() {
        return Err(Error::invalid_argument("a vm:// URL needs a broker name, as in vm://local"));
    }
    let mut brokers = lock(registry());
    if let Some(b) = brokers.get(name) {
        return Ok(b.clone());
    }
    let broker = Broker::start(make()?.broker)?;
    brokers.insert(name.to_owned(), broker.clone());
    Ok(broker)
}
