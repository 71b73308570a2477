//! A program using the client API behaves the same over `tcp://` as in-process: random
//! sequences of sends, receives, acknowledgements, recovers, commits, rollbacks and
//! consumers closed and reopened (with selectors) run once against an embedded broker
//! and once against a server, and each step must see the same outcome: the same
//! message, with the same redelivered flag and delivery count, or the same error.
//!
//! Each queue has one consumer at a time, so which consumer gets a message is not up
//! to timing, and all messages have one priority, so prefetching does not reorder them.
//!
//! The seeds are fixed, so a failure repeats; `HERALD_SAME_SEEDS=1,2,3` runs others.

mod common;

use std::time::Duration;

use common::{InProcess, Rng};
use herald_core::client::{
    AckMode, ConnectOptions, Connection, Consumer, ConsumerOptions, Producer, SendOptions, Session, SubscriptionOptions,
};
use herald_core::{Broker, DeliveryMode, Destination, Message};

const SESSIONS: usize = 4;
const STEPS: usize = 600;

/// How each session's consumer reads: its own queue, the shared topic, or a durable
/// subscription to it (which keeps what is published while its consumer is reopened).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reads {
    Queue,
    Topic,
    Durable,
}

fn consumer_options(session: usize, reads: Reads, selector: Option<&str>, prefetch: Option<u32>) -> ConsumerOptions {
    ConsumerOptions {
        selector: selector.map(str::to_owned),
        prefetch,
        subscription: (reads == Reads::Durable).then(|| SubscriptionOptions {
            name: format!("same.d{session}"),
            durable: true,
            shared: false,
        }),
        ..ConsumerOptions::default()
    }
}

/// What each session's consumer reads: its own queue, or the shared topic.
fn source(session: usize, reads: Reads) -> Destination {
    if reads != Reads::Queue {
        Destination::topic("same.t")
    } else {
        Destination::queue(format!("same.q{session}"))
    }
}

#[derive(Clone, Debug)]
enum Step {
    /// Message number `n` from `session` to a session's queue (`to`) or the topic.
    Send { session: usize, to: Option<usize>, n: u64, persistent: bool },
    Receive { session: usize },
    Acknowledge { session: usize },
    Recover { session: usize },
    Commit { session: usize },
    Rollback { session: usize },
    /// Closes the session's consumer and opens another with `selector` and `prefetch`.
    Reopen { session: usize, selector: Option<&'static str>, prefetch: Option<u32> },
}

const SELECTORS: [Option<&str>; 4] = [None, None, Some("color = 'red'"), Some("n > 3")];
/// The connection's (1000), pull, and small windows.
const PREFETCH: [Option<u32>; 4] = [None, Some(0), Some(1), Some(3)];

fn steps(rng: &mut Rng) -> Vec<Step> {
    let mut n = 0;
    (0..STEPS)
        .map(|_| {
            let session = rng.below(SESSIONS as u64) as usize;
            match rng.below(20) {
                0..=6 => {
                    n += 1;
                    let to = rng.below(SESSIONS as u64 + 1) as usize;
                    Step::Send { session, to: (to < SESSIONS).then_some(to), n, persistent: rng.chance(50) }
                }
                7..=13 => Step::Receive { session },
                14 => Step::Acknowledge { session },
                15 => Step::Recover { session },
                16 => Step::Commit { session },
                17 => Step::Rollback { session },
                _ => Step::Reopen {
                    session,
                    selector: *rng.pick(&SELECTORS),
                    prefetch: *rng.pick(&PREFETCH),
                },
            }
        })
        .collect()
}

struct Client {
    connection: Connection,
    sessions: Vec<(Session, Producer, Consumer)>,
}

fn open(connection: Connection, modes: &[AckMode], reads: &[Reads]) -> Client {
    connection.set_client_id("same").unwrap();
    let sessions = (0..SESSIONS)
        .map(|i| {
            let session = connection.create_session(modes[i]).unwrap();
            let producer = session.create_producer(None).unwrap();
            let consumer = session.create_consumer(&source(i, reads[i]), &consumer_options(i, reads[i], None, None)).unwrap();
            (session, producer, consumer)
        })
        .collect();
    connection.start().unwrap();
    Client { connection, sessions }
}

/// Runs `steps`, returning each one's outcome. `expected` (the in-process outcomes,
/// when running over TCP) tells a receive whether to wait long for a message that is
/// on its way or briefly for one that should not come.
fn run(client: &mut Client, steps: &[Step], reads: &[Reads], expected: Option<&[String]>) -> Vec<String> {
    let mut outcomes = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let outcome = match step.clone() {
            Step::Send { session, to, n, persistent } => {
                let (_, producer, _) = &client.sessions[session];
                let dest = match to {
                    Some(q) => source(q, Reads::Queue),
                    None => source(0, Reads::Topic),
                };
                let mut m = Message::text(format!("m{n}"));
                m.set_property("n", (n % 7) as i32).unwrap();
                m.set_property("color", if n % 3 == 0 { "red" } else { "blue" }).unwrap();
                let options = SendOptions {
                    delivery_mode: if persistent { DeliveryMode::Persistent } else { DeliveryMode::NonPersistent },
                    ..SendOptions::default()
                };
                format!("{:?}", producer.send_with(Some(&dest), m, &options).map(drop).map_err(|e| e.kind()))
            }
            Step::Receive { session } => {
                let (_, _, consumer) = &client.sessions[session];
                // In-process, whatever is there is there at once.
                let got = match expected.map(|e| e[i].starts_with("got")) {
                    None => consumer.receive_no_wait(),
                    Some(true) => consumer.receive_timeout(Duration::from_secs(5)),
                    Some(false) => consumer.receive_timeout(Duration::from_millis(30)),
                };
                match got {
                    Ok(Some(d)) => format!(
                        "got {} redelivered={} count={}",
                        d.text_body().unwrap_or("?"),
                        d.redelivered(),
                        d.delivery_count()
                    ),
                    Ok(None) => "nothing".to_owned(),
                    Err(e) => format!("error {:?}", e.kind()),
                }
            }
            Step::Acknowledge { session } => format!("{:?}", client.sessions[session].0.acknowledge().map_err(|e| e.kind())),
            Step::Recover { session } => format!("{:?}", client.sessions[session].0.recover().map_err(|e| e.kind())),
            Step::Commit { session } => format!("{:?}", client.sessions[session].0.commit().map_err(|e| e.kind())),
            Step::Rollback { session } => format!("{:?}", client.sessions[session].0.rollback().map_err(|e| e.kind())),
            Step::Reopen { session, selector, prefetch } => {
                let (s, _, consumer) = &mut client.sessions[session];
                consumer.close();
                let options = consumer_options(session, reads[session], selector, prefetch);
                match s.create_consumer(&source(session, reads[session]), &options) {
                    Ok(c) => {
                        *consumer = c;
                        "reopened".to_owned()
                    }
                    Err(e) => format!("error {:?}", e.kind()),
                }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

#[test]
fn random_programs_see_the_same_over_tcp_as_in_process() {
    let seeds: Vec<u64> = match std::env::var("HERALD_SAME_SEEDS") {
        Ok(list) => list.split(',').map(|s| s.trim().parse().expect("seeds are numbers")).collect(),
        Err(_) => vec![1, 2, 3, 4],
    };
    let modes = [AckMode::Auto, AckMode::Client, AckMode::Transacted];
    // What the programs saw in-process, so that a setup that delivers nothing (where both
    // sides would agree on "nothing" at every step) cannot pass.
    let (mut received, mut redelivered) = (0, 0);
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let session_modes: Vec<AckMode> = (0..SESSIONS).map(|_| *rng.pick(&modes)).collect();
        let reads: Vec<Reads> =
            (0..SESSIONS).map(|_| *rng.pick(&[Reads::Queue, Reads::Queue, Reads::Topic, Reads::Durable])).collect();
        let steps = steps(&mut rng);

        let broker = Broker::in_memory();
        let mut local = open(Connection::to_broker(&broker, &ConnectOptions::default()).unwrap(), &session_modes, &reads);
        let in_process = run(&mut local, &steps, &reads, None);
        local.connection.close();
        received += in_process.iter().filter(|o| o.starts_with("got")).count();
        redelivered += in_process.iter().filter(|o| o.contains("redelivered=true")).count();

        let server = InProcess::start();
        let mut remote = open(server.connect(), &session_modes, &reads);
        let over_tcp = run(&mut remote, &steps, &reads, Some(&in_process));
        remote.connection.close();

        for (i, (a, b)) in in_process.iter().zip(&over_tcp).enumerate() {
            if a != b {
                let context: Vec<String> = (i.saturating_sub(12)..=i)
                    .map(|j| format!("  {j}: {:?} -> in-process {} / tcp {}", steps[j], in_process[j], over_tcp[j]))
                    .collect();
                panic!(
                    "seed {seed} (modes {session_modes:?}, reading {reads:?}): step {i} differs\n{}",
                    context.join("\n")
                );
            }
        }
    }
    eprintln!("in-process: {received} messages received, {redelivered} of them redelivered");
    assert!(received > 0 && redelivered > 0, "the programs received {received} messages, {redelivered} redelivered");
}
