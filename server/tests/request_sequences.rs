//! Random sequences of well-formed requests from several connections at once, in any
//! order and with any IDs: sessions used before they exist or after they closed, acks of
//! tags never delivered, commits in the wrong mode, browsers of topics, temporaries of
//! other connections, messages with any headers, connections dropped mid-stream. Each
//! request gets its reply (or the connection a fatal error), the server never panics,
//! and afterwards a well-behaved client still works and the journal reopens.
//!
//! The seeds are fixed, so a failure repeats; `HERALD_SEQUENCE_SEEDS=1,2,3` runs others.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wire_destination, InProcess, Raw, Rng, TempDir};
use herald_core::client::{AckMode, ConsumerOptions};
use herald_core::journal::{SqliteJournal, SqliteOptions};
use herald_core::message::Body;
use herald_core::wire::{self, Frame, Reply, Request, RequestFrame, WireSubscription};
use herald_core::{Broker, BrokerConfig, DeliveryMode, Destination, DestinationKind, Message};
use herald_server::Settings;

/// Requests per seed, spread over the connections.
const REQUESTS: usize = 3000;
const CONNECTIONS: usize = 3;
/// The variants of `Request`, all of which `any_request` makes.
const REQUEST_KINDS: usize = 23;

/// One connection, and the temporaries it created.
struct Client {
    raw: Raw,
    next_id: u64,
    own: Vec<Destination>,
}

/// A new connection; one of two gets a client ID (so that durable subscriptions can be
/// made, and unsubscribed, in its name).
fn connect(server: &InProcess, rng: &mut Rng) -> Client {
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let mut client = Client { raw, next_id: 1, own: Vec::new() };
    if rng.chance(50) {
        let client_id = format!("seq-client-{}", rng.below(3));
        exchange(&mut client, Request::SetClientId { client_id }, false);
    }
    client
}

fn any_destination(rng: &mut Rng, temporaries: &[Destination]) -> Destination {
    match rng.below(10) {
        0..=3 => Destination::queue(format!("seq.q{}", rng.below(3))),
        4..=5 => Destination::topic(format!("seq.t{}", rng.below(2))),
        6 if !temporaries.is_empty() => rng.pick(temporaries).clone(),
        6 => wire_destination(DestinationKind::TemporaryQueue, "nobody's"),
        7 => wire_destination(*rng.pick(&[DestinationKind::Queue, DestinationKind::Topic]), ""),
        8 => wire_destination(DestinationKind::TemporaryTopic, &format!("made-up.{}", rng.below(3))),
        _ => Destination::queue("DLQ"),
    }
}

fn any_selector(rng: &mut Rng) -> Option<String> {
    rng.pick(&[None, Some("n > 2"), Some("n ="), Some("color IN ('red', 'blue')"), Some("JMSPriority > 4"), Some("")])
        .map(str::to_owned)
}

fn any_message(rng: &mut Rng, temporaries: &[Destination]) -> Message {
    let mut m = match rng.below(6) {
        0 => Message::new(Body::Empty),
        1 => Message::text("x".repeat(rng.below(3000) as usize)),
        2 => Message::new(Body::Bytes(vec![7; rng.below(2000) as usize])),
        3 => Message::new(Body::Text(None)),
        4 => Message::new(Body::Object(None)),
        _ => Message::new(Body::Map(Vec::new())),
    };
    m.priority = rng.below(12) as u8;
    m.delivery_mode = if rng.chance(50) { DeliveryMode::Persistent } else { DeliveryMode::NonPersistent };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    m.expiration = *rng.pick(&[0, now - 1000, now + 50, now + 60_000, -5, i64::MAX]);
    m.delivery_time = *rng.pick(&[0, now, now + 30, now + 600_000, -1, i64::MAX]);
    if rng.chance(20) {
        m.reply_to = Some(any_destination(rng, temporaries));
    }
    if rng.chance(50) {
        m.set_property("n", rng.below(5) as i32).unwrap();
        m.set_property("color", *rng.pick(&["red", "blue", "green"])).unwrap();
    }
    m
}

fn any_request(rng: &mut Rng, temporaries: &[Destination], own: &[Destination]) -> Request {
    let session = 1 + rng.below(4);
    let consumer = 1 + rng.below(6);
    match rng.below(25) {
        0 => Request::Start,
        1 => Request::Stop,
        2 => Request::SetClientId { client_id: format!("seq-client-{}", rng.below(3)) },
        3..=4 => Request::CreateSession { session, mode: rng.below(6) as i32 - 1 },
        5 => Request::CloseSession { session },
        6..=7 => {
            let subscription = rng.chance(30).then(|| WireSubscription {
                name: format!("sub{}", rng.below(3)),
                durable: rng.chance(50),
                shared: rng.chance(50),
            });
            // Subscriptions mostly on topics, where they exist.
            let destination = if subscription.is_some() && rng.chance(80) {
                Destination::topic(format!("seq.t{}", rng.below(2)))
            } else {
                any_destination(rng, temporaries)
            };
            Request::CreateConsumer {
                session,
                consumer,
                destination,
                selector: any_selector(rng),
                no_local: rng.chance(20),
                subscription,
                prefetch: *rng.pick(&[0, 1, 5, 1000]),
            }
        }
        8 => Request::CloseConsumer { consumer },
        9 => Request::Pull { consumer },
        10..=11 => Request::Consumed { consumer, tag: rng.below(30), hold: rng.chance(30) },
        12..=14 => Request::Send {
            session,
            destination: any_destination(rng, temporaries),
            message: any_message(rng, temporaries),
        },
        15 => Request::CreateBrowser {
            session,
            browser: 1 + rng.below(3),
            queue: any_destination(rng, temporaries),
            selector: any_selector(rng),
        },
        16 => Request::BrowseNext { browser: 1 + rng.below(3), max: *rng.pick(&[0, 1, 100, u32::MAX]) },
        17 => Request::CloseBrowser { browser: 1 + rng.below(3) },
        18 => rng.pick(&[Request::Acknowledge { session }, Request::AcknowledgeHeld { session }]).clone(),
        19 => rng.pick(&[Request::Commit { session }, Request::Rollback { session }, Request::Recover { session }]).clone(),
        20 => Request::Unsubscribe { session, name: format!("sub{}", rng.below(3)) },
        21 => Request::CreateTemporary { kind: *rng.pick(&[DestinationKind::TemporaryQueue, DestinationKind::TemporaryTopic]) },
        22 if !own.is_empty() && rng.chance(60) => Request::DeleteTemporary { destination: rng.pick(own).clone() },
        22 => Request::DeleteTemporary { destination: any_destination(rng, temporaries) },
        23 => Request::Close,
        _ => Request::Stats,
    }
}

/// Sends `request`; unless it is sent without a reply, reads until its reply (passing
/// over deliveries). `None` when the server closed the connection (a fatal error).
fn exchange(client: &mut Client, request: Request, quiet: bool) -> Option<Result<Reply, wire::WireError>> {
    let id = if quiet { wire::NO_REPLY } else { client.next_id };
    client.next_id += 1;
    client.raw.send(&Frame::Request(RequestFrame { id, request }));
    if quiet {
        return Some(Ok(Reply::Done));
    }
    loop {
        match client.raw.next() {
            None => return None,
            Some(Frame::Reply(r)) if r.id == id => return Some(r.result),
            // A quiet request's failure, a delivery, a heartbeat.
            Some(Frame::Reply(r)) if r.id == wire::NO_REPLY => {}
            Some(Frame::Reply(r)) => panic!("a reply to request {} came while waiting for {id}", r.id),
            Some(Frame::Deliver(_) | Frame::Heartbeat) => {}
            Some(Frame::Error(_)) => {
                assert_eq!(client.raw.next(), None, "the server closes the connection after an error frame");
                return None;
            }
            Some(other) => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Runs one seed's requests; adds the kinds of request that succeeded at least once to
/// `succeeded`.
fn run_seed(seed: u64, server: &InProcess, succeeded: &mut BTreeSet<String>) {
    let mut rng = Rng::new(seed);
    let mut clients: Vec<Client> = (0..CONNECTIONS).map(|_| connect(server, &mut rng)).collect();
    let mut temporaries = Vec::new();
    for _ in 0..REQUESTS {
        let at = rng.below(CONNECTIONS as u64) as usize;
        if rng.chance(1) {
            // Dropped without a word, whatever it held.
            clients[at] = connect(server, &mut rng);
            continue;
        }
        let request = any_request(&mut rng, &temporaries, &clients[at].own);
        let creates_temporary = matches!(request, Request::CreateTemporary { .. });
        let quiet = !creates_temporary && rng.chance(10);
        // The variant's name, as Debug spells it.
        let kind = format!("{request:?}").split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_owned();
        match exchange(&mut clients[at], request, quiet) {
            Some(Ok(reply)) => {
                if !quiet {
                    succeeded.insert(kind.clone());
                }
                if let Reply::Destination(d) = reply {
                    clients[at].own.push(d.clone());
                    temporaries.push(d);
                }
            }
            Some(Err(_)) => {}
            None => clients[at] = connect(server, &mut rng),
        }
        if kind == "Close" {
            clients[at] = connect(server, &mut rng);
        }
    }
}

#[test]
fn random_request_sequences_never_take_the_server_down() {
    // A panic on any thread of the server (a connection's task included) fails the test,
    // even though the server itself would carry on without that connection.
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let seeds: Vec<u64> = match std::env::var("HERALD_SEQUENCE_SEEDS") {
        Ok(list) => list.split(',').map(|s| s.trim().parse().expect("seeds are numbers")).collect(),
        Err(_) => vec![1, 2, 3],
    };
    let dir = TempDir::new("sequences");
    let mut succeeded = BTreeSet::new();
    for seed in seeds {
        let journal = SqliteJournal::open(&dir.0, &SqliteOptions::default()).unwrap();
        let broker = Broker::start(BrokerConfig { journal: Box::new(journal), ..BrokerConfig::default() }).unwrap();
        let server = InProcess::serving(broker.clone(), Settings { durable: true, ..Settings::default() });
        run_seed(seed, &server, &mut succeeded);
        assert_eq!(panics.load(Ordering::SeqCst), 0, "seed {seed}: the server panicked");

        // A well-behaved client is served as ever.
        let conn = server.connect();
        let session = conn.create_session(AckMode::Auto).unwrap();
        let queue = Destination::queue(format!("seq.healthy.{seed}"));
        let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
        conn.start().unwrap();
        session.create_producer(Some(queue)).unwrap().send(Message::text("still here")).unwrap();
        let got = consumer.receive_timeout(Duration::from_secs(10)).unwrap().expect("the healthy client's message");
        assert_eq!(got.text_body(), Some("still here"));
        conn.close();
        drop(server);
        broker.shutdown();
        // The next seed reopens what this one left in the journal.
    }
    assert_eq!(panics.load(Ordering::SeqCst), 0);
    // The sequences reached past the checks: every kind of request also succeeded.
    assert_eq!(succeeded.len(), REQUEST_KINDS, "kinds of request that ever succeeded: {succeeded:?}");
}
