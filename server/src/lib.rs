//! The Herald server: the broker over TCP, and the everyday commands.
//!
//! # Layout
//!
//! - [`listener`]: accepting connections (limit, TLS, handshake) and one task per client.
//! - [`connection`]: a client's byte stream as frames, limits checked before allocating.
//! - [`request`]: what a client may ask, carried out on its broker-side connection.
//! - [`shutdown`]: the stop signal every connection listens for.
//! - [`auth`]: users, argon2 passwords, per-destination permissions.
//! - [`config`]: the TOML configuration.
//! - [`storage`]: the journal in the data directory (locked against a second server).
//! - [`cli`]: `herald send`, `receive`, `browse`, `stat`, `bench`, `passwd`.
//!
//! The wire protocol itself lives in `herald_core::wire`, shared with the client.

pub mod auth;
pub mod cli;
pub mod config;
pub mod connection;
pub mod listener;
pub mod request;
pub mod shutdown;
pub mod storage;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use herald_core::Broker;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::auth::Auth;
use crate::config::Limits;
use crate::listener::Context;
use crate::shutdown::Shutdown;

/// How a server runs, beyond its broker.
pub struct Settings {
    pub auth: Auth,
    pub limits: Limits,
    /// Whether the broker's journal makes broker calls block on storage.
    pub durable: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { auth: Auth::anonymous(), limits: Limits::default(), durable: false }
    }
}

/// How long connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `broker` on `listener` with default settings (anonymous local clients) until
/// `shutdown` completes.
pub async fn run(listener: TcpListener, broker: Broker, shutdown: impl Future) {
    run_with(vec![(listener, None)], broker, Settings::default(), shutdown).await
}

/// Serves `broker` on each listener (with TLS where an acceptor is given) until
/// `shutdown` completes; then stops accepting, lets every connection finish the request
/// it is carrying out, tells clients the server is stopping and waits for them to
/// close.
pub async fn run_with(
    listeners: Vec<(TcpListener, Option<TlsAcceptor>)>,
    broker: Broker,
    settings: Settings,
    shutdown: impl Future,
) {
    let max = settings.limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let ctx = Arc::new(Context {
        broker,
        auth: Arc::new(settings.auth),
        limits: settings.limits,
        permits: Arc::new(Semaphore::new(max)),
        durable: settings.durable,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for (listener, tls) in listeners {
        tasks.push(tokio::spawn(listener::serve(listener, tls, ctx.clone(), Shutdown::new(stop_rx.clone()))));
    }
    shutdown.await;
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    // Every open connection holds a permit: having them all means every one is closed.
    let all = ctx.permits.acquire_many(max as u32);
    if tokio::time::timeout(DRAIN_TIMEOUT, all).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
