//! `vm://NAME`: brokers living in this process, created on first use.
//!
//! A named broker lives until the process exits (or [`vm_shutdown`]), like an embedded
//! broker a server would run, so messages left on a queue outlive the connection that
//! sent them.
//!
//! URL parameters, given when the URL first names the broker:
//! - `dataDir=PATH`: keep persistent messages in a SQLite journal in `PATH`
//!   (see `docs/journal.md`); without it the broker lives in memory only.
//! - `sync=full|os`: the journal's sync mode (default `full`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::broker::{Broker, BrokerConfig};
use crate::error::{Error, Result};
use crate::journal::{SqliteJournal, SqliteOptions, SyncMode};
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
// Never inlined: the C tests' valgrind suppressions (c-api/tests/valgrind.supp) name
// this module's frames to recognise the registry's memory, which lives until exit.
#[inline(never)]
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

/// Shuts down the in-process broker called `name` and forgets it: its journal closes and
/// its data directory is released; a later `vm://NAME` starts a new broker. Returns
/// false when there is no such broker.
pub fn vm_shutdown(name: &str) -> bool {
    let broker = lock(registry()).remove(name);
    match broker {
        Some(b) => {
            b.shutdown();
            true
        }
        None => false,
    }
}

/// A parsed `vm://NAME?key=value&...` URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct VmUrl {
    pub name: String,
    pub data_dir: Option<PathBuf>,
    pub sync: SyncMode,
}

impl VmUrl {
    pub fn parse(url: &str) -> Result<VmUrl> {
        let Some(rest) = url.strip_prefix("vm://") else {
            return Err(Error::invalid_argument(format!("unsupported URL \"{url}\": expected vm://NAME")));
        };
        let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parsed = VmUrl { name: name.to_owned(), data_dir: None, sync: SyncMode::Full };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "dataDir" if !value.is_empty() => parsed.data_dir = Some(PathBuf::from(value)),
                "dataDir" => return Err(Error::invalid_argument(format!("{url}: dataDir needs a path"))),
                "sync" => parsed.sync = SyncMode::parse(value)?,
                other => {
                    return Err(Error::invalid_argument(format!(
                        "{url}: unknown parameter \"{other}\" (known: dataDir, sync)"
                    )))
                }
            }
        }
        Ok(parsed)
    }

    /// The broker this URL describes, started if it is not running yet.
    pub fn broker(&self) -> Result<Broker> {
        vm_broker(&self.name, || {
            let mut broker = BrokerConfig::default();
            if let Some(dir) = &self.data_dir {
                let options = SqliteOptions { sync: self.sync, ..SqliteOptions::default() };
                broker.journal = Box::new(SqliteJournal::open(dir, &options)?);
            }
            Ok(VmConfig { broker })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_parameters() {
        let url = VmUrl::parse("vm://local?dataDir=/var/lib/herald&sync=os").unwrap();
        assert_eq!(url.name, "local");
        assert_eq!(url.data_dir, Some(PathBuf::from("/var/lib/herald")));
        assert_eq!(url.sync, SyncMode::Os);
        let plain = VmUrl::parse("vm://local").unwrap();
        assert_eq!((plain.data_dir, plain.sync), (None, SyncMode::Full));
    }

    #[test]
    fn rejects_unknown_parameters_and_bad_values() {
        assert!(VmUrl::parse("vm://x?datadir=/tmp").unwrap_err().message().contains("unknown parameter"));
        assert!(VmUrl::parse("vm://x?sync=sometimes").unwrap_err().message().contains("sometimes"));
        assert!(VmUrl::parse("vm://x?dataDir=").is_err());
        assert!(VmUrl::parse("tcp://x").is_err());
    }
}
