//! The Rust client API doing what `examples/c/producer.c` and `examples/c/consumer.c
//! --preload` do, so the C API's overhead can be measured against it:
//! send `--count` bytes messages of `--size` bytes (each with a `seq` property) to a
//! queue of an in-process broker, then receive them all. With `--concurrent`, as
//! `consumer --concurrent`: a producer thread with its own connection sends while the
//! main thread receives, and the end-to-end rate is printed.
//!
//! `cargo run -p herald-c --release --example rust_throughput -- --count 200000 --size 100`

use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, SendOptions};
use herald_core::{Body, DeliveryMode, Destination, Message};

fn main() {
    let mut count: usize = 10_000;
    let mut size: usize = 100;
    let mut url = String::from("vm://example");
    let mut non_persistent = false;
    let mut concurrent = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).expect("--count N"),
            "--size" => {
                size = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--size BYTES")
            }
            "--url" => url = args.next().expect("--url URL"),
            "--non-persistent" => non_persistent = true,
            "--concurrent" => concurrent = true,
            other => {
                panic!("unknown argument {other}; use --url, --count, --size, --non-persistent")
            }
        }
    }

    let queue = Destination::queue("example.queue");
    let send_all = {
        let (url, queue) = (url.clone(), queue.clone());
        move || {
            let connection = Connection::open(&url, &ConnectOptions::default()).expect("connect");
            let session = connection.create_session(AckMode::Auto).expect("session");
            let mut producer = session.create_producer(Some(queue)).expect("producer");
            if non_persistent {
                producer
                    .set_options(SendOptions {
                        delivery_mode: DeliveryMode::NonPersistent,
                        ..SendOptions::default()
                    })
                    .expect("options");
            }
            let payload = vec![b'x'; size];
            let start = Instant::now();
            for seq in 0..count {
                let mut message = Message::bytes(payload.clone());
                message.set_property("seq", seq as i64).expect("property");
                producer.send(message).expect("send");
            }
            start.elapsed()
        }
    };

    let connection = Connection::open(&url, &ConnectOptions::default()).expect("connect");
    let session = connection.create_session(AckMode::Auto).expect("session");
    if !concurrent {
        report("sent", count, size, send_all.clone()());
    }
    let consumer = session
        .create_consumer(&queue, &Default::default())
        .expect("consumer");
    connection.start().expect("start");
    let start = Instant::now();
    let sender = concurrent.then(|| std::thread::spawn(send_all));
    let mut bytes = 0;
    for _ in 0..count {
        let delivery = consumer
            .receive_timeout(Duration::from_secs(5))
            .expect("receive")
            .expect("a message");
        if let Body::Bytes(b) = &delivery.body {
            bytes += b.len();
        }
    }
    let elapsed = start.elapsed();
    if let Some(sender) = sender {
        sender.join().expect("the producer thread");
    }
    report(
        if concurrent {
            "sent and received"
        } else {
            "received"
        },
        count,
        bytes / count.max(1),
        elapsed,
    );
}

fn report(what: &str, count: usize, size: usize, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    let rate = count as f64 / seconds;
    println!(
        "{what} {count} messages of {size} bytes in {seconds:.3} s: {rate:.0} msgs/s, {:.1} MB/s",
        rate * size as f64 / 1e6
    );
}
