package io.herald.jms;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.jms.Connection;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.junit.Test;

/**
 * MessageListener delivery in the automatic acknowledgement modes (JMS 2.0 section 8.7):
 * a message is acknowledged when onMessage returns; when onMessage throws a
 * RuntimeException the message is delivered again, with JMSRedelivered set.
 */
public class ListenerAcknowledgeTest extends JmsTestBase {

    private static final int[] AUTOMATIC = {Session.AUTO_ACKNOWLEDGE, Session.DUPS_OK_ACKNOWLEDGE};

    private static String text(Message m) {
        try {
            return ((TextMessage) m).getText();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** What one listener saw: text, JMSRedelivered and JMSXDeliveryCount per delivery. */
    private static final class Seen {
        final String text;
        final boolean redelivered;
        final int count;

        Seen(Message m) throws Exception {
            text = text(m);
            redelivered = m.getJMSRedelivered();
            count = m.getIntProperty("JMSXDeliveryCount");
        }
    }

    private void assertNothingLeft(Queue q) throws Exception {
        Session check = connection().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer c = check.createConsumer(q);
        Message left = c.receive(300);
        assertNull("the queue should be empty, found " + (left == null ? null : text(left)), left);
        check.close();
    }

    @Test
    public void aListenerThatThrowsOnceGetsTheMessageAgainMarkedRedelivered() throws Exception {
        for (int mode : AUTOMATIC) {
            Connection c = connection();
            Session s = c.createSession(false, mode);
            Queue q = s.createQueue("listener-throws-" + mode);
            List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch twice = new CountDownLatch(2);
            s.createConsumer(q).setMessageListener(m -> {
                try {
                    seen.add(new Seen(m));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                twice.countDown();
                if (seen.size() == 1) throw new RuntimeException("the first delivery fails");
            });
            s.createProducer(q).send(s.createTextMessage("retry me"));
            assertTrue("mode " + mode + ": delivered again after the listener threw", twice.await(10, TimeUnit.SECONDS));
            s.close();
            assertEquals(2, seen.size());
            assertEquals("retry me", seen.get(0).text);
            assertFalse("the first delivery is not a redelivery", seen.get(0).redelivered);
            assertEquals(1, seen.get(0).count);
            assertEquals("retry me", seen.get(1).text);
            assertTrue("mode " + mode + ": the second delivery has JMSRedelivered", seen.get(1).redelivered);
            assertEquals(2, seen.get(1).count);
            assertNothingLeft(q);
        }
    }

    @Test
    public void aListenerThatReturnsAcknowledgesEachMessageOnce() throws Exception {
        for (int mode : AUTOMATIC) {
            Connection c = connection();
            Session s = c.createSession(false, mode);
            Queue q = s.createQueue("listener-returns-" + mode);
            MessageProducer p = s.createProducer(q);
            for (int i = 0; i < 20; i++) p.send(s.createTextMessage("m" + i));
            List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch all = new CountDownLatch(20);
            s.createConsumer(q).setMessageListener(m -> {
                try {
                    seen.add(new Seen(m));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                all.countDown();
            });
            assertTrue(all.await(10, TimeUnit.SECONDS));
            // Closing the session returns whatever is unacknowledged: nothing may come back.
            s.close();
            assertEquals(20, seen.size());
            for (int i = 0; i < 20; i++) {
                assertEquals("m" + i, seen.get(i).text);
                assertFalse("mode " + mode + ": m" + i + " was not redelivered", seen.get(i).redelivered);
                assertEquals(1, seen.get(i).count);
            }
            assertNothingLeft(q);
        }
    }

    @Test
    public void closingTheSessionDuringOnMessageWaitsAndStillAcknowledges() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-close-during");
        CountDownLatch entered = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        s.createConsumer(q).setMessageListener(m -> {
            entered.countDown();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished.incrementAndGet();
        });
        s.createProducer(q).send(s.createTextMessage("in flight"));
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        s.close();
        assertEquals("close() returned only after onMessage did", 1, finished.get());
        assertNothingLeft(q);
    }

    @Test
    public void oneFailureRedeliversInOrderAndLaterMessagesStillArrive() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-order");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 5; i++) p.send(s.createTextMessage("m" + i));
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failures = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(6);
        s.createConsumer(q).setMessageListener(m -> {
            seen.add(text(m));
            done.countDown();
            if (text(m).equals("m2") && failures.getAndIncrement() == 0) throw new RuntimeException("m2 fails once");
        });
        assertTrue(done.await(10, TimeUnit.SECONDS));
        s.close();
        assertEquals(java.util.Arrays.asList("m0", "m1", "m2", "m2", "m3", "m4"), seen);
        assertNothingLeft(q);
    }

    @Test
    public void aListenerThatAlwaysThrowsSendsTheMessageToTheDeadLetterQueue() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-poison");
        AtomicInteger deliveries = new AtomicInteger();
        s.createConsumer(q).setMessageListener(m -> {
            deliveries.incrementAndGet();
            throw new RuntimeException("always fails");
        });
        s.createProducer(q).send(s.createTextMessage("poison"));
        Session reader = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Message dead = reader.createConsumer(reader.createQueue("DLQ")).receive(10000);
        assertNotNull("the message reached the dead letter queue", dead);
        assertEquals("poison", text(dead));
        assertEquals("max-deliveries", dead.getStringProperty("JMS_Herald_MoveReason"));
        s.close();
        assertEquals("delivered up to the broker's limit (10), then moved", 10, deliveries.get());
        assertNothingLeft(q);
    }

    @Test
    public void inClientAcknowledgeAThrowingListenerLeavesTheMessageUnacknowledged() throws Exception {
        Connection c = connection();
        CountDownLatch reported = new CountDownLatch(1);
        c.setExceptionListener(e -> reported.countDown());
        Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-client-ack");
        CountDownLatch once = new CountDownLatch(1);
        s.createConsumer(q).setMessageListener(m -> {
            once.countDown();
            throw new RuntimeException("not acknowledged");
        });
        s.createProducer(q).send(s.createTextMessage("held"));
        assertTrue(once.await(10, TimeUnit.SECONDS));
        assertTrue("the failure went to the ExceptionListener", reported.await(10, TimeUnit.SECONDS));
        s.close(); // returns the unacknowledged message
        Session again = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Message m = again.createConsumer(q).receive(2000);
        assertNotNull("the message was not acknowledged", m);
        assertEquals("held", text(m));
        assertTrue(m.getJMSRedelivered());
    }
}
