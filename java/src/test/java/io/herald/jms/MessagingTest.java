package io.herald.jms;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.InvalidSelectorException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import javax.jms.Topic;

import org.junit.Test;

/** Point-to-point, pub/sub, subscriptions, selectors, ack modes, transactions, delivery rules. */
public class MessagingTest extends JmsTestBase {

    private static String text(Message m) throws Exception {
        assertNotNull("expected a message", m);
        return ((TextMessage) m).getText();
    }

    /**
     * Sends {@code text} to {@code q} after {@code delayMs}, from a thread that is handed a
     * session of its own (on a connection of its own).
     */
    private Thread sendLater(Queue q, String text, long delayMs) throws Exception {
        Session s = connection().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = s.createProducer(q);
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(delayMs);
                p.send(s.createTextMessage(text));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        return t;
    }

    // Waits without a timeout: a hang fails the test instead of the build.
    @Test(timeout = 60_000)
    public void receiveWithoutATimeoutWaitsForTheNextMessage() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("receive-forever");
        MessageConsumer consumer = s.createConsumer(q);
        c.start();
        Thread later = sendLater(q, "worth the wait", 300);
        assertEquals("worth the wait", text(consumer.receive()));
        later.join();
        later = sendLater(q, "zero never expires", 300);
        assertEquals("zero never expires", text(consumer.receive(0)));
        later.join();
        try (javax.jms.JMSContext ctx = factory.createContext()) {
            javax.jms.JMSConsumer simple = ctx.createConsumer(q);
            later = sendLater(q, "simplified", 300);
            assertEquals("simplified", simple.receiveBody(String.class));
            later.join();
        }
    }

    @Test
    public void pointToPointSetsHeadersAndDeliversOnce() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("orders");
        MessageProducer p = s.createProducer(q);
        TextMessage sent = s.createTextMessage("hello");
        sent.setStringProperty("customer", "ada");
        sent.setJMSCorrelationID("corr-1");
        long before = System.currentTimeMillis();
        p.send(sent);
        assertTrue(sent.getJMSMessageID().startsWith("ID:"));
        assertTrue(sent.getJMSTimestamp() >= before);
        assertEquals(q, sent.getJMSDestination());

        MessageConsumer consumer = s.createConsumer(q);
        Message got = consumer.receive(2000);
        assertEquals("hello", text(got));
        assertEquals(sent.getJMSMessageID(), got.getJMSMessageID());
        assertEquals(sent.getJMSTimestamp(), got.getJMSTimestamp());
        assertEquals("ada", got.getStringProperty("customer"));
        assertEquals("corr-1", got.getJMSCorrelationID());
        assertEquals(DeliveryMode.PERSISTENT, got.getJMSDeliveryMode());
        assertEquals(4, got.getJMSPriority());
        assertEquals(q, got.getJMSDestination());
        assertFalse(got.getJMSRedelivered());
        assertEquals(1, got.getIntProperty("JMSXDeliveryCount"));
        assertNull(consumer.receiveNoWait());
    }

    @Test
    public void competingConsumersShareAQueue() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("work");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 20; i++) p.send(s.createTextMessage("m" + i));
        Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer a = s.createConsumer(q);
        MessageConsumer b = s2.createConsumer(q);
        List<String> all = new ArrayList<>();
        int fromA = 0;
        while (true) {
            Message ma = a.receive(200);
            Message mb = b.receive(200);
            if (ma == null && mb == null) break;
            if (ma != null) { all.add(text(ma)); fromA++; }
            if (mb != null) all.add(text(mb));
        }
        assertEquals("each message delivered once", 20, all.size());
        assertEquals(20, new java.util.HashSet<>(all).size());
        assertTrue(fromA > 0);
    }

    @Test
    public void topicCopiesToEverySubscriber() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("news");
        MessageConsumer a = s.createConsumer(t);
        MessageConsumer b = s.createConsumer(t);
        s.createProducer(t).send(s.createTextMessage("flash"));
        assertEquals("flash", text(a.receive(2000)));
        assertEquals("flash", text(b.receive(2000)));
    }

    @Test
    public void subscribersGetIndependentCopiesInOrder() throws Exception {
        Connection c = connection();
        Session ps = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = ps.createTopic("fan-out");
        Session[] sessions = new Session[4];
        MessageConsumer[] subscribers = new MessageConsumer[4];
        for (int i = 0; i < 4; i++) {
            sessions[i] = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            subscribers[i] = sessions[i].createConsumer(t);
        }
        MessageProducer p = ps.createProducer(t);
        for (int n = 0; n < 50; n++) {
            BytesMessage m = ps.createBytesMessage();
            m.writeBytes(new byte[] {(byte) n, 1, 2, 3});
            m.setIntProperty("n", n);
            p.send(m);
        }
        for (int n = 0; n < 50; n++) {
            for (int i = 0; i < 4; i++) {
                BytesMessage got = (BytesMessage) subscribers[i].receive(2000);
                assertNotNull("subscriber " + i + " message " + n, got);
                assertEquals(n, got.getIntProperty("n"));
                assertEquals(4, got.getBodyLength());
                byte[] body = new byte[4];
                assertEquals(4, got.readBytes(body));
                assertEquals(n, body[0]);
                // What one subscriber does to its message reaches no other subscriber's.
                got.clearBody();
                got.clearProperties();
                got.writeBytes(new byte[] {9, 9});
                got.setIntProperty("n", -1);
                got.setJMSCorrelationID("changed by " + i);
            }
        }
        for (MessageConsumer s : subscribers) assertNull(s.receive(100));
    }

    @Test
    public void durableSubscriptionKeepsMessagesWhileAwayUntilUnsubscribed() throws Exception {
        Connection c = factory.createConnection();
        closeLater(c);
        c.setClientID("durable-client");
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("prices");
        MessageConsumer sub = s.createDurableSubscriber(t, "sub1");
        sub.close();
        s.createProducer(t).send(s.createTextMessage("while away"));
        MessageConsumer again = s.createDurableConsumer(t, "sub1");
        assertEquals("while away", text(again.receive(2000)));
        again.close();
        s.unsubscribe("sub1");
        s.createProducer(t).send(s.createTextMessage("after unsubscribe"));
        MessageConsumer fresh = s.createDurableConsumer(t, "sub1");
        assertNull(fresh.receive(200));
    }

    @Test
    public void sharedSubscriptionSplitsMessages() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("shared-news");
        MessageConsumer a = s.createSharedConsumer(t, "group");
        MessageConsumer b = s.createSharedConsumer(t, "group");
        MessageProducer p = s.createProducer(t);
        for (int i = 0; i < 10; i++) p.send(s.createTextMessage("n" + i));
        int count = 0;
        while (a.receive(200) != null) count++;
        while (b.receive(200) != null) count++;
        assertEquals(10, count);
    }

    @Test
    public void selectorsFilterAndBadSelectorsAreRejected() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("filtered");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 6; i++) {
            TextMessage m = s.createTextMessage("m" + i);
            m.setIntProperty("n", i);
            m.setStringProperty("colour", i % 2 == 0 ? "red" : "blue");
            p.send(m);
        }
        MessageConsumer reds = s.createConsumer(q, "colour = 'red' AND n > 0");
        assertEquals("m2", text(reds.receive(2000)));
        assertEquals("m4", text(reds.receive(2000)));
        assertNull(reds.receive(100));
        try {
            s.createConsumer(q, "colour = ");
            fail("a malformed selector must be refused");
        } catch (InvalidSelectorException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Test
    public void clientAcknowledgeAndRecoverRedeliver() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("client-ack");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("a"));
        p.send(s.createTextMessage("b"));
        MessageConsumer consumer = s.createConsumer(q);
        assertEquals("a", text(consumer.receive(2000)));
        assertEquals("b", text(consumer.receive(2000)));
        s.recover();
        Message again = consumer.receive(2000);
        assertEquals("a", text(again));
        assertTrue(again.getJMSRedelivered());
        assertEquals(2, again.getIntProperty("JMSXDeliveryCount"));
        Message b = consumer.receive(2000);
        b.acknowledge();
        s.recover();
        assertNull(consumer.receive(200));
    }

    @Test
    public void unacknowledgedMessagesReturnWhenTheSessionCloses() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("returned");
        s.createProducer(q).send(s.createTextMessage("keep me"));
        assertEquals("keep me", text(s.createConsumer(q).receive(2000)));
        s.close();
        Session s2 = c.createSession(false, Session.DUPS_OK_ACKNOWLEDGE);
        Message m = s2.createConsumer(q).receive(2000);
        assertEquals("keep me", text(m));
        assertTrue(m.getJMSRedelivered());
    }

    @Test
    public void transactionsCommitAndRollBackSendsAndReceives() throws Exception {
        Connection c = connection();
        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        assertTrue(tx.getTransacted());
        Queue q = tx.createQueue("tx");
        MessageProducer p = tx.createProducer(q);
        p.send(tx.createTextMessage("one"));
        Session other = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer watcher = other.createConsumer(q);
        assertNull("uncommitted sends are invisible", watcher.receive(200));
        tx.rollback();
        p.send(tx.createTextMessage("two"));
        tx.commit();
        watcher.close();

        MessageConsumer consumer = tx.createConsumer(q);
        assertEquals("two", text(consumer.receive(2000)));
        tx.rollback();
        Message again = consumer.receive(2000);
        assertEquals("two", text(again));
        assertTrue(again.getJMSRedelivered());
        tx.commit();
        assertNull(consumer.receive(200));
    }

    @Test
    public void higherPriorityFirst() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("prio");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("low"), DeliveryMode.NON_PERSISTENT, 1, 0);
        p.send(s.createTextMessage("high"), DeliveryMode.NON_PERSISTENT, 9, 0);
        p.send(s.createTextMessage("normal"));
        MessageConsumer consumer = s.createConsumer(q);
        Message first = consumer.receive(2000);
        assertEquals("high", text(first));
        assertEquals(9, first.getJMSPriority());
        assertEquals(DeliveryMode.NON_PERSISTENT, first.getJMSDeliveryMode());
        assertEquals("normal", text(consumer.receive(2000)));
        assertEquals("low", text(consumer.receive(2000)));
    }

    @Test
    public void expiredMessagesAreNotDelivered() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("ttl");
        MessageProducer p = s.createProducer(q);
        p.setTimeToLive(50);
        TextMessage m = s.createTextMessage("short-lived");
        p.send(m);
        assertTrue(m.getJMSExpiration() >= m.getJMSTimestamp() + 50);
        p.setTimeToLive(0);
        p.send(s.createTextMessage("forever"));
        Thread.sleep(150);
        MessageConsumer consumer = s.createConsumer(q);
        assertEquals("forever", text(consumer.receive(2000)));
        assertNull(consumer.receive(100));
    }

    @Test
    public void deliveryDelayHoldsMessagesBack() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("delayed");
        MessageProducer p = s.createProducer(q);
        p.setDeliveryDelay(700);
        TextMessage m = s.createTextMessage("later");
        p.send(m);
        assertTrue(m.getJMSDeliveryTime() >= m.getJMSTimestamp() + 700);
        MessageConsumer consumer = s.createConsumer(q);
        assertNull("not before its delivery time", consumer.receive(100));
        Message got = consumer.receive(5000);
        assertEquals("later", text(got));
        assertTrue(System.currentTimeMillis() >= m.getJMSDeliveryTime());
    }

    @Test
    public void redeliveryLimitMovesToTheDeadLetterQueue() throws Exception {
        Connection c = connection();
        Session s = c.createSession(true, Session.SESSION_TRANSACTED);
        Queue q = s.createQueue("poison");
        s.createProducer(q).send(s.createTextMessage("poison"));
        s.commit();
        MessageConsumer consumer = s.createConsumer(q);
        int deliveries = 0;
        Message m;
        while ((m = consumer.receive(500)) != null) {
            deliveries++;
            assertEquals(deliveries, m.getIntProperty("JMSXDeliveryCount"));
            s.rollback();
        }
        assertEquals("the default redelivery limit", 10, deliveries);
        MessageConsumer dlq = s.createConsumer(s.createQueue("DLQ"));
        Message dead = dlq.receive(2000);
        assertEquals("poison", text(dead));
        assertEquals("max-deliveries", dead.getStringProperty("JMS_Herald_MoveReason"));
        s.commit();
    }

    @Test
    public void browserSeesWithoutConsuming() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("browsed");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 3; i++) {
            TextMessage m = s.createTextMessage("b" + i);
            m.setIntProperty("i", i);
            p.send(m);
        }
        QueueBrowser all = s.createBrowser(q);
        List<String> seen = new ArrayList<>();
        for (Enumeration<?> e = all.getEnumeration(); e.hasMoreElements();) seen.add(text((Message) e.nextElement()));
        assertEquals(List.of("b0", "b1", "b2"), seen);
        QueueBrowser some = s.createBrowser(q, "i >= 1");
        assertEquals(2, Collections.list(some.getEnumeration()).size());
        MessageConsumer consumer = s.createConsumer(q);
        assertEquals("b0", text(consumer.receive(2000)));
    }

    @Test
    public void requestReplyOverATemporaryQueue() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue requests = s.createQueue("requests");
        Session serverSession = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer server = serverSession.createConsumer(requests);
        MessageProducer replier = serverSession.createProducer(null);
        server.setMessageListener(m -> {
            try {
                TextMessage reply = serverSession.createTextMessage(((TextMessage) m).getText().toUpperCase());
                reply.setJMSCorrelationID(m.getJMSMessageID());
                replier.send(m.getJMSReplyTo(), reply);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        TemporaryQueue replies = s.createTemporaryQueue();
        MessageConsumer replyConsumer = s.createConsumer(replies);
        TextMessage request = s.createTextMessage("ping");
        request.setJMSReplyTo(replies);
        s.createProducer(requests).send(request);
        Message reply = replyConsumer.receive(5000);
        assertEquals("PING", text(reply));
        assertEquals(request.getJMSMessageID(), reply.getJMSCorrelationID());
        replyConsumer.close();
        replies.delete();
    }

    @Test
    public void messageListenerRunsOnTheSessionThreadInOrder() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listened");
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(50);
        s.createConsumer(q).setMessageListener(m -> {
            try {
                got.add(((TextMessage) m).getText());
                threads.add(Thread.currentThread());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            done.countDown();
        });
        Session sender = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = sender.createProducer(q);
        for (int i = 0; i < 50; i++) p.send(sender.createTextMessage("L" + i));
        assertTrue("all 50 delivered", done.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 50; i++) assertEquals("L" + i, got.get(i));
        assertNotSame(Thread.currentThread(), threads.get(0));
        assertEquals(1, new java.util.HashSet<>(threads).size());
        assertTrue("the delivery thread is a daemon", threads.get(0).isDaemon());
    }

    @Test
    public void stoppedConnectionDeliversNothingUntilStarted() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("paused");
        s.createProducer(q).send(s.createTextMessage("wait"));
        c.stop();
        MessageConsumer consumer = s.createConsumer(q);
        assertNull(consumer.receive(200));
        c.start();
        assertEquals("wait", text(consumer.receive(2000)));
    }

    @Test
    public void noLocalSkipsOwnMessages() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("chat");
        MessageConsumer mine = s.createConsumer(t, null, true);
        Connection other = connection();
        Session os = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
        s.createProducer(t).send(s.createTextMessage("from me"));
        os.createProducer(t).send(os.createTextMessage("from them"));
        assertEquals("from them", text(mine.receive(2000)));
        assertNull(mine.receive(100));
    }
}
