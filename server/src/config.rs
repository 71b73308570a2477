//! `herald serve --config FILE`: the TOML configuration, and the settings built from it.
//!
//! Every section is optional; `docs/server.md` is the reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_core::journal::{OnFull, SqliteOptions, SyncMode, DEFAULT_BLOCK_TIMEOUT};
use serde::Deserialize;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data directory (default `./herald-data`).
    pub data: Option<PathBuf>,
    #[serde(default)]
    pub journal: JournalConfig,
    #[serde(default, rename = "listener")]
    pub listeners: Vec<ListenerConfig>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub redelivery: Redelivery,
    #[serde(default, rename = "user")]
    pub users: Vec<UserConfig>,
    #[serde(default, rename = "permission")]
    pub permissions: Vec<PermissionConfig>,
    #[serde(default, rename = "binding")]
    pub bindings: Vec<BindingConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub address: SocketAddr,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The longest client heartbeat interval [`Limits::idle_timeout_for`] waits for.
pub const MAX_CLIENT_HEARTBEAT: Duration = Duration::from_secs(60);

/// The smallest `max_frame_bytes` accepted: below it even the handshake of a client
/// with a long user name and password would be refused.
pub const MIN_FRAME_BYTES: u32 = 4096;

/// Limits; each has a safe default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest frame (and so message) a client may send, in bytes.
    pub max_frame_bytes: u32,
    pub max_connections: usize,
    pub max_consumers_per_connection: usize,
    /// Sessions one connection may have open at once.
    pub max_sessions_per_connection: usize,
    /// Queue browsers one connection may have open at once (each holds its place in
    /// its queue and a page of messages).
    pub max_browsers_per_connection: usize,
    /// A connection that sends nothing (not even a heartbeat) this long is closed; for a
    /// client that announced heartbeats, never before three of its intervals (see
    /// [`Limits::idle_timeout_for`]).
    pub idle_timeout_ms: u64,
    /// How often the server sends a heartbeat on an otherwise quiet connection; 0: never.
    pub heartbeat_ms: u32,
    /// How long a new connection has to complete its handshake.
    pub handshake_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_bytes: herald_core::wire::DEFAULT_MAX_FRAME,
            max_connections: 10_000,
            max_consumers_per_connection: 1_000,
            max_sessions_per_connection: 1_000,
            max_browsers_per_connection: 100,
            idle_timeout_ms: 60_000,
            heartbeat_ms: 10_000,
            handshake_timeout_ms: 10_000,
        }
    }
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(1))
    }

    /// The idle timeout of a client that announced heartbeats every `heartbeat_ms` (0:
    /// none): at least three of its intervals, so that a healthy idle client is never
    /// dropped, whatever `idle_timeout_ms` says. Announcements beyond
    /// [`MAX_CLIENT_HEARTBEAT`] count as that, so no client stays forever.
    pub fn idle_timeout_for(&self, heartbeat_ms: u32) -> Duration {
        let heartbeat = Duration::from_millis(u64::from(heartbeat_ms)).min(MAX_CLIENT_HEARTBEAT);
        self.idle_timeout().max(heartbeat * 3)
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms.max(1))
    }
}

/// The journal in the data directory (`docs/journal.md`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// `full` (fsync before a send returns) or `os` (survives a killed process, not a
    /// power loss).
    pub sync: String,
    /// The most bytes the database may take; unset: as much as the disk has.
    pub max_bytes: Option<u64>,
    /// What a send that does not fit in `max_bytes` does: `fail` (a ResourceAllocation
    /// error at once) or `block` (wait for consumers to free space).
    pub on_full: String,
    /// With `on_full = "block"`, how long a send waits before it fails.
    pub block_timeout_ms: u64,
}

impl Default for JournalConfig {
    fn default() -> JournalConfig {
        JournalConfig {
            sync: SyncMode::Full.as_str().into(),
            max_bytes: None,
            on_full: OnFull::Fail.as_str().into(),
            block_timeout_ms: DEFAULT_BLOCK_TIMEOUT.as_millis() as u64,
        }
    }
}

impl JournalConfig {
    /// The journal's settings, or what is wrong with them.
    pub fn options(&self) -> Result<SqliteOptions, String> {
        let journal = |e: herald_core::Error| format!("[journal]: {}", e.message());
        Ok(SqliteOptions {
            sync: SyncMode::parse(&self.sync).map_err(journal)?,
            max_size: self.max_bytes,
            on_full: OnFull::parse(&self.on_full).map_err(journal)?,
            block_timeout: Duration::from_millis(self.block_timeout_ms),
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Redelivery {
    /// Deliveries without an acknowledgement after which a message is dead-lettered.
    pub max_deliveries: u32,
    pub dead_letter_queue: String,
    /// Where expired messages go; unset drops them.
    pub expiry_queue: Option<String>,
}

impl Default for Redelivery {
    fn default() -> Redelivery {
        Redelivery { max_deliveries: 10, dead_letter_queue: "DLQ".into(), expiry_queue: None }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// An argon2 PHC string, as `herald passwd` prints.
    pub password_hash: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionConfig {
    /// User names; `"*"` is every authenticated user.
    pub users: Vec<String>,
    /// Destination name patterns: `*` matches any run of characters, `?` one. A
    /// `queue://` or `topic://` prefix limits the pattern to that kind.
    pub destinations: Vec<String>,
    /// Any of `send`, `consume`, `browse`, `create`, `admin`.
    pub allow: Vec<String>,
}

/// A queue bound to a topic: it receives a copy of every matching message published to
/// the topic.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingConfig {
    pub topic: String,
    pub queue: String,
    pub selector: Option<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.journal.options()?;
        for l in &config.listeners {
            if l.tls_cert.is_some() != l.tls_key.is_some() {
                return Err(format!("listener {}: tls_cert and tls_key go together", l.address));
            }
        }
        for p in &config.permissions {
            for a in &p.allow {
                if crate::auth::Permission::parse(a).is_none() {
                    return Err(format!(
                        "unknown permission \"{a}\" (expected send, consume, browse, create or admin)"
                    ));
                }
            }
        }
        if config.limits.max_frame_bytes < MIN_FRAME_BYTES {
            return Err(format!(
                "[limits]: max_frame_bytes = {} is too small; a frame must hold a handshake and a message of some size: at least {MIN_FRAME_BYTES}",
                config.limits.max_frame_bytes
            ));
        }
        if config.redelivery.dead_letter_queue.is_empty() {
            return Err("[redelivery]: dead_letter_queue needs a queue name".into());
        }
        if config.redelivery.expiry_queue.as_deref() == Some("") {
            return Err("[redelivery]: expiry_queue needs a queue name (leave it out to drop expired messages)".into());
        }
        for u in &config.users {
            argon2::PasswordHash::new(&u.password_hash)
                .map_err(|e| format!("user {}: the password hash is not an argon2 PHC string: {e}", u.name))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in docs/server.md parses, so the reference stays true.
    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("../../docs/server.md");
        let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let hash = crate::auth::hash_password("x").unwrap();
        let text = doc[start..end].replace("$argon2id$v=19$m=19456,t=2,p=1$....", &hash);
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.listeners.len(), 2);
        assert!(config.listeners[1].tls_cert.is_some());
        assert_eq!(config.limits.max_consumers_per_connection, 1000);
        assert_eq!(config.limits.max_sessions_per_connection, 1000);
        assert_eq!(config.limits.max_browsers_per_connection, 100);
        assert_eq!(config.redelivery.expiry_queue.as_deref(), Some("ExpiryQueue"));
        assert_eq!(config.users.len(), 2);
        assert_eq!(config.permissions[1].allow, ["browse", "admin"]);
        assert_eq!(config.bindings[0].selector.as_deref(), Some("severity >= 3"));
        let journal = config.journal.options().unwrap();
        assert_eq!(journal.sync, SyncMode::Full);
        assert_eq!(journal.max_size, Some(10 << 30));
        assert_eq!(journal.on_full, OnFull::Block);
        assert_eq!(journal.block_timeout, Duration::from_secs(30));
    }

    #[test]
    fn the_journal_section_sets_the_size_limit_and_what_a_full_journal_does() {
        let text = "[journal]\nsync = \"os\"\nmax_bytes = 1048576\non_full = \"block\"\nblock_timeout_ms = 250\n";
        let config = Config::parse(text).unwrap();
        let options = config.journal.options().unwrap();
        assert_eq!(
            options,
            SqliteOptions {
                sync: SyncMode::Os,
                max_size: Some(1 << 20),
                on_full: OnFull::Block,
                block_timeout: Duration::from_millis(250),
            }
        );
        // Without the section: the defaults, failing at once when full.
        assert_eq!(Config::parse("").unwrap().journal.options().unwrap(), SqliteOptions::default());
        let fail = Config::parse("[journal]\non_full = \"fail\"\n").unwrap();
        assert_eq!(fail.journal.options().unwrap().on_full, OnFull::Fail);
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(Config::parse("[limits]\nmax_conections = 1\n").unwrap_err().contains("max_conections"));
        assert!(Config::parse("[[permission]]\nusers=[\"a\"]\ndestinations=[\"*\"]\nallow=[\"write\"]\n")
            .unwrap_err()
            .contains("write"));
        assert!(Config::parse("[[user]]\nname=\"a\"\npassword_hash=\"plain\"\n").unwrap_err().contains("argon2"));
        assert!(Config::parse("[[listener]]\naddress=\"127.0.0.1:1\"\ntls_cert=\"c.pem\"\n").is_err());
        assert!(Config::parse("[journal]\non_full = \"wait\"\n").unwrap_err().contains("wait"));
        assert!(Config::parse("[journal]\nsync = \"never\"\n").unwrap_err().contains("never"));
        assert!(Config::parse("[journal]\nmax_size = 1\n").unwrap_err().contains("max_size"));
        let tiny = Config::parse("[limits]\nmax_frame_bytes = 16\n").unwrap_err();
        assert!(tiny.contains("max_frame_bytes = 16 is too small"), "{tiny}");
        assert!(Config::parse("[limits]\nmax_frame_bytes = 4096\n").is_ok());
        // A queue without a name is one no client can consume from (nor name in a
        // permission): what went there would be out of reach.
        let nameless = Config::parse("[redelivery]\ndead_letter_queue = \"\"\n").unwrap_err();
        assert!(nameless.contains("dead_letter_queue"), "{nameless}");
        let nameless = Config::parse("[redelivery]\nexpiry_queue = \"\"\n").unwrap_err();
        assert!(nameless.contains("expiry_queue"), "{nameless}");
    }
}
