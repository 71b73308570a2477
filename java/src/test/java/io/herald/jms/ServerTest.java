package io.herald.jms;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.List;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.ResourceAllocationException;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.junit.Test;

/**
 * Behaviour only a {@code herald serve} process shows: its journal across a crash, its
 * limits (tcp:// only; skipped until the server is built).
 */
public class ServerTest {

    @Test
    public void persistentMessagesSurviveAServerCrash() throws Exception {
        BrokerTarget server = BrokerTarget.serve(null);
        try {
            try (Connection c = new HeraldConnectionFactory(server.url).createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("journaled"));
                p.send(s.createTextMessage("kept"));
                p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
                p.send(s.createTextMessage("lost with the process"));
                p.setDeliveryMode(DeliveryMode.PERSISTENT);
                p.send(s.createTextMessage("kept too"));
                // Received and not acknowledged when the server dies: comes back redelivered.
                Session ca = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
                MessageProducer p2 = ca.createProducer(ca.createQueue("in-flight"));
                p2.send(ca.createTextMessage("unacknowledged"));
                c.start();
                assertEquals("unacknowledged", ((TextMessage) ca.createConsumer(ca.createQueue("in-flight")).receive(5000)).getText());
                server = server.crashAndRestart();
            }
            try (Connection c = new HeraldConnectionFactory(server.url).createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("journaled"));
                List<String> got = new ArrayList<>();
                for (Message m; (m = consumer.receive(1000)) != null; ) got.add(((TextMessage) m).getText());
                assertEquals(java.util.Arrays.asList("kept", "kept too"), got);
                Message again = s.createConsumer(s.createQueue("in-flight")).receive(5000);
                assertNotNull("the unacknowledged message survived", again);
                assertTrue("it comes back marked redelivered", again.getJMSRedelivered());
            }
        } finally {
            server.close();
        }
    }

    @Test
    public void aMessageOverTheServersFrameLimitIsRefusedAndTheConnectionGoesOn() throws Exception {
        try (BrokerTarget server = BrokerTarget.serve("[limits]\nmax_frame_bytes = 65536\n");
                Connection c = new HeraldConnectionFactory(server.url).createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("limited");
            MessageProducer p = s.createProducer(q);
            BytesMessage big = s.createBytesMessage();
            big.writeBytes(new byte[256 * 1024]);
            try {
                p.send(big);
                fail("a 256 KiB message went through a 64 KiB frame limit");
            } catch (ResourceAllocationException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("65536"));
            }
            p.send(s.createTextMessage("small"));
            assertEquals("small", ((TextMessage) s.createConsumer(q).receive(5000)).getText());
        }
    }

    @Test
    public void connectionsOverTheServersLimitAreRefused() throws Exception {
        try (BrokerTarget server = BrokerTarget.serve("[limits]\nmax_connections = 2\n")) {
            HeraldConnectionFactory f = new HeraldConnectionFactory(server.url);
            Connection a = f.createConnection();
            Connection b = f.createConnection();
            try {
                f.createConnection().close();
                fail("a third connection was accepted with max_connections = 2");
            } catch (ResourceAllocationException expected) {
                // refused, and this JVM's other connections go on
            } catch (JMSException other) {
                fail("expected a ResourceAllocationException, got " + other);
            }
            a.start();
            Session s = a.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s.createProducer(s.createQueue("still-works")).send(s.createTextMessage("yes"));
            assertNotNull(s.createConsumer(s.createQueue("still-works")).receive(5000));
            b.close();
            // The server notices the closed connection; a new one then fits.
            Connection c = null;
            long deadline = System.currentTimeMillis() + 10_000;
            while (c == null) {
                try {
                    c = f.createConnection();
                } catch (ResourceAllocationException notYet) {
                    if (System.currentTimeMillis() > deadline) throw notYet;
                    Thread.sleep(50);
                }
            }
            c.close();
            a.close();
        }
    }
}
