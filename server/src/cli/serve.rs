//! `herald serve`.

use std::path::PathBuf;
use std::time::Instant;

use herald_core::{Broker, BrokerConfig};
use tokio::net::TcpListener;

use super::ServeArgs;
use crate::auth::Auth;
use crate::config::{Config, ListenerConfig};
use crate::Settings;

/// Where `herald serve` listens and keeps its data without a config saying otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7171";
pub const DEFAULT_DATA: &str = "herald-data";

pub fn serve(args: ServeArgs) -> Result<(), String> {
    let started = Instant::now();
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let data_path = args.data.clone().or_else(|| config.data.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
    let listeners: Vec<ListenerConfig> = match args.listen {
        Some(address) => vec![ListenerConfig { address, tls_cert: None, tls_key: None }],
        None if config.listeners.is_empty() => vec![ListenerConfig {
            address: DEFAULT_LISTEN.parse().expect("the default address parses"),
            tls_cert: None,
            tls_key: None,
        }],
        None => config.listeners.clone(),
    };
    let mut acceptors = Vec::new();
    for l in &listeners {
        acceptors.push(match (&l.tls_cert, &l.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::acceptor(cert, key)?),
            _ => None,
        });
    }
    let journal = crate::storage::open_journal(&data_path, &config.journal.options()?)?;
    let durable = journal.is_durable();
    let broker = Broker::start(BrokerConfig {
        max_deliveries: config.redelivery.max_deliveries,
        dead_letter_queue: config.redelivery.dead_letter_queue.clone(),
        expiry_queue: config.redelivery.expiry_queue.clone(),
        journal,
        ..BrokerConfig::default()
    })
    .map_err(|e| format!("cannot start the broker on {}: {e}", data_path.display()))?;
    for b in &config.bindings {
        broker
            .bind_queue(&b.topic, &b.queue, b.selector.as_deref())
            .map_err(|e| format!("binding of queue {} to topic {}: {e}", b.queue, b.topic))?;
        tracing::info!(topic = %b.topic, queue = %b.queue, selector = b.selector.as_deref().unwrap_or(""), "queue bound to topic");
    }
    let auth = if config.users.is_empty() { Auth::anonymous() } else { Auth::from_config(&config) };
    if auth.is_anonymous() {
        tracing::warn!("NO USERS CONFIGURED: accepting anonymous connections from this machine only, with every permission");
    }
    let settings = Settings { auth, limits: config.limits.clone(), durable };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("herald-io")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let data_shown = data_path.display().to_string();
    let running = broker.clone();
    runtime.block_on(async move {
        let mut bound = Vec::new();
        for (l, tls) in listeners.iter().zip(acceptors) {
            let listener = TcpListener::bind(l.address).await.map_err(|e| {
                if e.kind() == std::io::ErrorKind::AddrInUse {
                    format!("cannot listen on {}: the address is in use (is another herald running?)", l.address)
                } else {
                    format!("cannot listen on {}: {e}", l.address)
                }
            })?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(address = %local, tls = tls.is_some(), "listening");
            bound.push((listener, tls));
        }
        tracing::info!(
            data = %data_shown,
            startup_ms = started.elapsed().as_millis() as u64,
            "herald is ready"
        );
        crate::run_with(bound, broker, settings, crate::stop_signal()).await;
        Ok::<(), String>(())
    })?;
    // Every connection has ended: close the journal.
    running.shutdown();
    tracing::info!("stopped");
    Ok(())
}
