//! Sends a few messages to a queue and a topic on an in-process broker and reads them
//! back. Run with `cargo run -p herald-core --example hello`.

use std::time::Duration;

use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::{Destination, Message};

fn main() -> herald_core::Result<()> {
    let connection = Connection::open("vm://hello", &ConnectOptions::default())?;
    connection.start()?;
    let session = connection.create_session(AckMode::Auto)?;

    // Point-to-point: each message goes to one consumer.
    let orders = Destination::queue("orders");
    let producer = session.create_producer(Some(orders.clone()))?;
    for (i, region) in ["EU", "US", "EU"].iter().enumerate() {
        let mut message = Message::text(format!("order {i}"));
        message.set_property("region", *region)?;
        producer.send(message)?;
    }
    let eu_only = ConsumerOptions { selector: Some("region = 'EU'".into()), ..ConsumerOptions::default() };
    let consumer = session.create_consumer(&orders, &eu_only)?;
    while let Some(delivery) = consumer.receive_timeout(Duration::from_millis(200))? {
        println!("queue: {} ({:?})", delivery.text_body().unwrap_or(""), delivery.property("region"));
    }

    // Publish/subscribe: every subscriber gets a copy.
    let news = Destination::topic("news");
    let first = session.create_consumer(&news, &ConsumerOptions::default())?;
    let second = session.create_consumer(&news, &ConsumerOptions::default())?;
    session.create_producer(Some(news))?.send(Message::text("hello, subscribers"))?;
    for (name, subscriber) in [("first", &first), ("second", &second)] {
        if let Some(delivery) = subscriber.receive_timeout(Duration::from_secs(1))? {
            println!("topic, {name} subscriber: {}", delivery.text_body().unwrap_or(""));
        }
    }
    Ok(())
}
