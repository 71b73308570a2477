package io.herald.jms;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import javax.jms.Connection;
import javax.jms.IllegalStateException;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import javax.jms.Topic;

import org.junit.Test;

/** JMS rules an application relies on that the other suites do not reach. */
public class SemanticsTest extends JmsTestBase {

    private static String text(Message m) throws JMSException {
        assertNotNull("expected a message", m);
        return ((TextMessage) m).getText();
    }

    private void assertEmpty(Connection c, Queue q) throws Exception {
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Message left = s.createConsumer(q).receive(300);
        assertNull("the queue should be empty, found " + (left == null ? null : text(left)), left);
        s.close();
    }

    @Test
    public void aTransactedListenerCommitsAndRollsBackItsOwnWork() throws Exception {
        Connection c = connection();
        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        Queue in = tx.createQueue("tx-listener-in");
        Queue out = tx.createQueue("tx-listener-out");
        MessageProducer forward = tx.createProducer(out);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(3);
        tx.createConsumer(in).setMessageListener(m -> {
            try {
                String t = text(m);
                seen.add(t + (m.getJMSRedelivered() ? "*" : ""));
                forward.send(tx.createTextMessage("forwarded " + t));
                if (t.equals("bad") && !m.getJMSRedelivered()) {
                    tx.rollback(); // the forward is discarded and "bad" comes again
                } else {
                    tx.commit();
                }
                done.countDown();
            } catch (JMSException e) {
                throw new RuntimeException(e);
            }
        });
        Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = plain.createProducer(in);
        p.send(plain.createTextMessage("good"));
        p.send(plain.createTextMessage("bad"));
        assertTrue(done.await(10, TimeUnit.SECONDS));
        tx.close();
        assertEquals(java.util.Arrays.asList("good", "bad", "bad*"), seen);
        MessageConsumer forwarded = plain.createConsumer(out);
        assertEquals("forwarded good", text(forwarded.receive(2000)));
        assertEquals("forwarded bad", text(forwarded.receive(2000)));
        assertNull("the rolled back forward was discarded", forwarded.receive(200));
        assertEmpty(c, in);
    }

    @Test
    public void acknowledgeCoversEveryConsumerOfTheSession() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue a = s.createQueue("ack-all-a");
        Queue b = s.createQueue("ack-all-b");
        s.createProducer(a).send(s.createTextMessage("from a"));
        s.createProducer(b).send(s.createTextMessage("from b"));
        Message fromA = s.createConsumer(a).receive(2000);
        assertEquals("from b", text(s.createConsumer(b).receive(2000)));
        fromA.acknowledge(); // acknowledges both: acknowledgement is per session
        s.close();
        assertEmpty(c, a);
        assertEmpty(c, b);
    }

    @Test
    public void aListenerMayCloseItsOwnConsumer() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("close-own-consumer");
        MessageConsumer consumer = s.createConsumer(q);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        consumer.setMessageListener(m -> {
            try {
                consumer.close();
            } catch (Throwable t) {
                failure.set(t);
            }
            closed.countDown();
        });
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("first"));
        assertTrue(closed.await(10, TimeUnit.SECONDS));
        assertNull("close() from onMessage is allowed", failure.get());
        p.send(s.createTextMessage("second"));
        Session other = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertEquals("only the first went to the closed consumer", "second", text(other.createConsumer(q).receive(2000)));
        assertEmpty(c, q);
    }

    @Test
    public void aListenerMayNotStopOrCloseItsConnection() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-stops");
        List<Throwable> refused = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        s.createConsumer(q).setMessageListener(m -> {
            try {
                c.stop();
            } catch (Throwable t) {
                refused.add(t);
            }
            try {
                c.close();
            } catch (Throwable t) {
                refused.add(t);
            }
            done.countDown();
        });
        s.createProducer(q).send(s.createTextMessage("x"));
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(2, refused.size());
        for (Throwable t : refused) assertTrue(t.toString(), t instanceof IllegalStateException);
    }

    @Test
    public void unsubscribingWhileAConsumerIsOpenIsRefused() throws Exception {
        Connection c = factory.createConnection();
        closeLater(c);
        c.setClientID("unsub-client");
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("unsub-topic");
        MessageConsumer durable = s.createDurableSubscriber(t, "kept");
        try {
            s.unsubscribe("kept");
            fail("unsubscribe with an open consumer succeeded");
        } catch (JMSException expected) {
            // the subscription is in use
        }
        s.createProducer(t).send(s.createTextMessage("still subscribed"));
        assertEquals("still subscribed", text(durable.receive(2000)));
        durable.close();
        s.unsubscribe("kept");
        try {
            s.unsubscribe("kept");
            fail("unsubscribing an unknown subscription succeeded");
        } catch (InvalidDestinationException expected) {
            // JMS: an unknown name is an InvalidDestinationException
        }
    }

    @Test
    public void temporaryQueuesBelongToTheirConnection() throws Exception {
        Connection owner = connection();
        Session s = owner.createSession(false, Session.AUTO_ACKNOWLEDGE);
        TemporaryQueue temp = s.createTemporaryQueue();
        MessageConsumer consumer = s.createConsumer(temp);
        try {
            temp.delete();
            fail("deleted a temporary queue that has a consumer");
        } catch (JMSException expected) {
            // still in use
        }
        Connection other = connection();
        Session os = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
        os.createProducer(temp).send(os.createTextMessage("any connection may send"));
        assertEquals("any connection may send", text(consumer.receive(2000)));
        try {
            os.createConsumer(temp);
            fail("another connection consumed from a temporary queue");
        } catch (JMSException expected) {
            // only the creating connection may consume
        }
        consumer.close();
        temp.delete();
        try {
            os.createProducer(temp).send(os.createTextMessage("too late"));
            fail("sent to a deleted temporary queue");
        } catch (InvalidDestinationException expected) {
            // gone
        }
    }

    @Test
    public void jmsContextListenerAndClientAcknowledge() throws Exception {
        try (JMSContext ctx = factory.createContext(JMSContext.CLIENT_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue("context-client-ack");
            ctx.createProducer().send(q, "one").send(q, "two");
            JMSConsumer consumer = ctx.createConsumer(q);
            assertEquals("one", consumer.receiveBody(String.class, 2000));
            assertEquals("two", consumer.receiveBody(String.class, 2000));
            ctx.recover();
            assertEquals("one", consumer.receiveBody(String.class, 2000));
            assertEquals("two", consumer.receiveBody(String.class, 2000));
            ctx.acknowledge();
            ctx.recover();
            assertNull(consumer.receiveNoWait());
            consumer.close();

            // A second context shares the connection; its listener runs on its own session.
            try (JMSContext other = ctx.createContext(JMSContext.AUTO_ACKNOWLEDGE)) {
                CountDownLatch got = new CountDownLatch(1);
                AtomicReference<String> body = new AtomicReference<>();
                other.createConsumer(q).setMessageListener(m -> {
                    try {
                        body.set(m.getBody(String.class));
                    } catch (JMSException e) {
                        throw new RuntimeException(e);
                    }
                    got.countDown();
                });
                ctx.createProducer().send(q, "to the listener");
                assertTrue(got.await(10, TimeUnit.SECONDS));
                assertEquals("to the listener", body.get());
            }
        }
    }

    /**
     * Messages a consumer handed out stay the session's when the consumer closes: another
     * consumer of the session gets the next ones, recover() brings them back (redelivered,
     * in order), and acknowledging any message of the session, or commit(), acknowledges them.
     */
    @Test
    public void unacknowledgedMessagesOfAClosedConsumerStayWithTheSession() throws Exception {
        Connection c = connection();
        Session client = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = client.createQueue("closed-consumer-client-ack");
        MessageProducer p = client.createProducer(q);
        for (String t : new String[] {"one", "two", "three"}) {
            p.send(client.createTextMessage(t));
        }
        MessageConsumer first = client.createConsumer(q);
        assertEquals("one", text(first.receive(5000)));
        assertEquals("two", text(first.receive(5000)));
        first.close();
        MessageConsumer second = client.createConsumer(q);
        assertEquals("three", text(second.receive(5000)));
        client.recover();
        Message m = null;
        for (String t : new String[] {"one", "two", "three"}) {
            m = second.receive(5000);
            assertEquals(t, text(m));
            assertTrue(t + " is redelivered", m.getJMSRedelivered());
            assertEquals(2, m.getIntProperty("JMSXDeliveryCount"));
        }
        second.close();
        m.acknowledge();
        client.recover();
        assertEmpty(c, q);

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        Queue txq = tx.createQueue("closed-consumer-transacted");
        MessageProducer txp = tx.createProducer(txq);
        txp.send(tx.createTextMessage("kept"));
        tx.commit();
        MessageConsumer consumer = tx.createConsumer(txq);
        assertEquals("kept", text(consumer.receive(5000)));
        consumer.close();
        tx.commit();
        // Closing the session would give back what the commit had not acknowledged.
        tx.close();
        assertEmpty(c, txq);
    }
}
