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
//! - `maxBytes=N`: the most bytes the journal's database may take (default: no limit).
//! - `onFull=fail|block`: what a send that does not fit does (default `fail`).
//! - `blockTimeoutMs=N`: with `onFull=block`, how long such a send waits for space
//!   before it fails (default 30000).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::broker::{Broker, BrokerConfig};
use crate::error::{Error, Result};
use crate::journal::{OnFull, SqliteJournal, SqliteOptions, SyncMode};
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
    /// The journal's settings (used with `data_dir`).
    pub journal: SqliteOptions,
}

/// A whole number in a URL parameter.
fn number(url: &str, key: &str, value: &str) -> Result<u64> {
    value
        .parse()
        .map_err(|_| Error::invalid_argument(format!("{url}: {key} needs a whole number, not \"{value}\"")))
}

impl VmUrl {
    pub fn parse(url: &str) -> Result<VmUrl> {
        let Some(rest) = url.strip_prefix("vm://") else {
            return Err(Error::invalid_argument(format!("unsupported URL \"{url}\": expected vm://NAME")));
        };
        let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parsed = VmUrl { name: name.to_owned(), data_dir: None, journal: SqliteOptions::default() };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "dataDir" if !value.is_empty() => parsed.data_dir = Some(PathBuf::from(value)),
                "dataDir" => return Err(Error::invalid_argument(format!("{url}: dataDir needs a path"))),
                "sync" => parsed.journal.sync = SyncMode::parse(value)?,
                "maxBytes" => parsed.journal.max_size = Some(number(url, key, value)?),
                "onFull" => parsed.journal.on_full = OnFull::parse(value)?,
                "blockTimeoutMs" => {
                    parsed.journal.block_timeout = std::time::Duration::from_millis(number(url, key, value)?)
                }
                other => {
                    return Err(Error::invalid_argument(format!(
                        "{url}: unknown parameter \"{other}\" (known: dataDir, sync, maxBytes, onFull, blockTimeoutMs)"
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
                broker.journal = Box::new(SqliteJournal::open(dir, &self.journal)?);
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
        assert_eq!(url.journal.sync, SyncMode::Os);
        let plain = VmUrl::parse("vm://local").unwrap();
        assert_eq!(plain.journal.on_full, OnFull::Fail);
        assert_eq!((plain.data_dir, plain.journal), (None, SqliteOptions::default()));
    }

    #[test]
    fn parses_the_size_limit_and_what_a_full_journal_does() {
        let url = VmUrl::parse("vm://local?dataDir=/d&maxBytes=1048576&onFull=block&blockTimeoutMs=2500").unwrap();
        assert_eq!(url.journal.max_size, Some(1 << 20));
        assert_eq!(url.journal.on_full, OnFull::Block);
        assert_eq!(url.journal.block_timeout, std::time::Duration::from_millis(2500));
        assert_eq!(VmUrl::parse("vm://x?onFull=FAIL").unwrap().journal.on_full, OnFull::Fail);
        assert!(VmUrl::parse("vm://x?onFull=wait").unwrap_err().message().contains("wait"));
        assert!(VmUrl::parse("vm://x?maxBytes=1MB").unwrap_err().message().contains("maxBytes"));
        assert!(VmUrl::parse("vm://x?blockTimeoutMs=-1").unwrap_err().message().contains("blockTimeoutMs"));
    }

    #[test]
    fn rejects_unknown_parameters_and_bad_values() {
        assert!(VmUrl::parse("vm://x?datadir=/tmp").unwrap_err().message().contains("unknown parameter"));
        assert!(VmUrl::parse("vm://x?sync=sometimes").unwrap_err().message().contains("sometimes"));
        assert!(VmUrl::parse("vm://x?dataDir=").is_err());
        assert!(VmUrl::parse("tcp://x").is_err());
    }
}
