//! Users, passwords (argon2 hashes) and per-destination permissions.
//!
//! Without any configured user the server is in anonymous mode: it accepts only
//! connections from loopback addresses, each with every permission.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use herald_core::{Destination, DestinationKind, Error, ErrorKind, Result};

use crate::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Send,
    Consume,
    Browse,
    /// Create a durable subscription (or replace it with another topic, selector or
    /// noLocal) and delete it (unsubscribe), on its topic.
    Create,
    /// Server-wide statistics.
    Admin,
}

impl Permission {
    pub fn parse(text: &str) -> Option<Permission> {
        Some(match text {
            "send" => Permission::Send,
            "consume" => Permission::Consume,
            "browse" => Permission::Browse,
            "create" => Permission::Create,
            "admin" => Permission::Admin,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Permission::Send => "send",
            Permission::Consume => "consume",
            Permission::Browse => "browse",
            Permission::Create => "create",
            Permission::Admin => "admin",
        }
    }
}

struct Rule {
    users: Vec<String>,
    destinations: Vec<String>,
    allow: Vec<Permission>,
}

/// The server's users and rules.
pub struct Auth {
    users: HashMap<String, String>,
    rules: Vec<Rule>,
}

impl Auth {
    pub fn from_config(config: &Config) -> Auth {
        Auth {
            users: config.users.iter().map(|u| (u.name.clone(), u.password_hash.clone())).collect(),
            rules: config
                .permissions
                .iter()
                .map(|p| Rule {
                    users: p.users.clone(),
                    destinations: p.destinations.clone(),
                    allow: p.allow.iter().filter_map(|a| Permission::parse(a)).collect(),
                })
                .collect(),
        }
    }

    /// No users: anonymous local connections only.
    pub fn anonymous() -> Auth {
        Auth { users: HashMap::new(), rules: Vec::new() }
    }

    pub fn is_anonymous(&self) -> bool {
        self.users.is_empty()
    }

    /// Checks the credentials of a new connection; blocking (argon2 is deliberately
    /// slow), so call it off the async threads.
    pub fn authenticate(self: &Arc<Self>, user: Option<&str>, password: Option<&str>, peer: SocketAddr) -> Result<Access> {
        if self.is_anonymous() {
            if !peer.ip().is_loopback() {
                return Err(Error::new(
                    ErrorKind::Security,
                    "this server has no users configured and accepts only local connections",
                ));
            }
            return Ok(Access { auth: self.clone(), user: None });
        }
        let denied = || Error::new(ErrorKind::Security, "authentication failed: unknown user or wrong password");
        let (Some(user), Some(password)) = (user, password) else {
            return Err(Error::new(ErrorKind::Security, "authentication required: connect with a user and a password"));
        };
        let Some(hash) = self.users.get(user) else { return Err(denied()) };
        let parsed = PasswordHash::new(hash).map_err(|_| denied())?;
        Argon2::default().verify_password(password.as_bytes(), &parsed).map_err(|_| denied())?;
        Ok(Access { auth: self.clone(), user: Some(user.to_owned()) })
    }
}

/// What one authenticated connection may do.
#[derive(Clone)]
pub struct Access {
    auth: Arc<Auth>,
    /// `None` in anonymous mode.
    user: Option<String>,
}

impl Access {
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether this connection may do `permission` on `destination`. Temporary
    /// destinations are open to every connection: only their owner can consume from
    /// them, and anyone may reply to them.
    pub fn check(&self, permission: Permission, destination: Option<&Destination>) -> Result<()> {
        let Some(user) = &self.user else { return Ok(()) };
        if destination.is_some_and(|d| d.is_temporary()) && permission != Permission::Admin {
            return Ok(());
        }
        let allowed = self.auth.rules.iter().any(|rule| {
            rule.allow.contains(&permission)
                && rule.users.iter().any(|u| u == "*" || u == user)
                && match destination {
                    None => true,
                    Some(d) => rule.destinations.iter().any(|p| pattern_matches(p, d)),
                }
        });
        if allowed {
            return Ok(());
        }
        let what = match destination {
            Some(d) => format!(" on {d}"),
            None => String::new(),
        };
        Err(Error::new(ErrorKind::Security, format!("user \"{user}\" lacks the {} permission{what}", permission.name())))
    }
}

fn pattern_matches(pattern: &str, dest: &Destination) -> bool {
    let (kind, pattern) = if let Some(p) = pattern.strip_prefix("queue://") {
        (Some(DestinationKind::Queue), p)
    } else if let Some(p) = pattern.strip_prefix("topic://") {
        (Some(DestinationKind::Topic), p)
    } else {
        (None, pattern)
    };
    if kind.is_some_and(|k| k != dest.kind()) {
        return false;
    }
    glob(pattern, dest.name())
}

/// `*` matches any run of characters (also none), `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        // `t` stays on a character boundary wherever the pattern's next byte may be a
        // wildcard: `?` and `*` take whole UTF-8 characters, and a literal matches
        // byte for byte only whole characters of the pattern.
        if p < pattern.len() && pattern[p] == b'?' {
            p += 1;
            t += utf8_len(text[t]);
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            let next = st + utf8_len(text[st]);
            p = sp + 1;
            t = next;
            star = Some((sp, next));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The length in bytes of the UTF-8 character that starts with `lead`.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// An argon2id hash of `password` in PHC form, for the `[[user]]` section.
pub fn hash_password(password: &str) -> std::result::Result<String, String> {
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..16]);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("orders.*", "orders.eu"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*.audit.*", "x.audit.y"));
        assert!(!glob("orders", "orders2"));
        // `?` is one character, however many bytes it takes.
        assert!(glob("a?c", "aéc"));
        assert!(glob("q.??", "q.日本"));
        assert!(!glob("q.?", "q.日本"));
        assert!(!glob("??", "é"));
        assert!(glob("*?", "é"));
        assert!(glob("*é?", "xéé🦀"));
        assert!(!glob("*é?", "xé"));
    }

    #[test]
    fn passwords_verify() {
        let hash = hash_password("s3cret").unwrap();
        let config = Config::parse(&format!(
            "[[user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\n\n[[permission]]\nusers = [\"alice\"]\ndestinations = [\"queue://orders.*\"]\nallow = [\"send\"]\n"
        ))
        .unwrap();
        let auth = Arc::new(Auth::from_config(&config));
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let access = auth.authenticate(Some("alice"), Some("s3cret"), peer).unwrap();
        assert!(access.check(Permission::Send, Some(&Destination::queue("orders.eu"))).is_ok());
        assert_eq!(
            access.check(Permission::Send, Some(&Destination::topic("orders.eu"))).unwrap_err().kind(),
            ErrorKind::Security
        );
        assert!(access.check(Permission::Consume, Some(&Destination::queue("orders.eu"))).is_err());
        assert!(auth.authenticate(Some("alice"), Some("wrong"), peer).is_err());
        assert!(auth.authenticate(None, None, peer).is_err());
    }
}
