package io.herald.jms;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import javax.jms.BytesMessage;
import javax.jms.CompletionListener;
import javax.jms.Connection;
import javax.jms.ExceptionListener;
import javax.jms.IllegalStateException;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidDestinationException;
import javax.jms.InvalidSelectorException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.QueueConnection;
import javax.jms.QueueSession;
import javax.jms.ResourceAllocationException;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TopicConnection;
import javax.jms.TopicSession;
import javax.jms.TransactionRolledBackException;
import javax.jms.TransactionRolledBackRuntimeException;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The JMS layer's own rules, checked against {@link MockProvider}: no native library, no
 * broker. What the broker does with messages is tested by the suites that run through the
 * native library; these check what HeraldConnection, HeraldSession and their objects decide
 * themselves, and that a provider failure reaches the application as the right exception.
 */
public class JmsRulesTest {
    private MockProvider provider;
    private HeraldConnectionFactory factory;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @Before
    public void setUp() {
        provider = new MockProvider();
        factory = new HeraldConnectionFactory("vm://rules", provider);
    }

    @After
    public void tearDown() throws Exception {
        for (AutoCloseable c : opened) c.close();
    }

    private Connection connection() throws JMSException {
        Connection c = factory.createConnection();
        opened.add(c);
        return c;
    }

    private static String text(Message m) throws JMSException {
        assertNotNull("expected a message", m);
        return ((TextMessage) m).getText();
    }

    private interface JmsCall {
        void run() throws Exception;
    }

    private static <T extends Throwable> T assertThrows(Class<T> type, JmsCall call) {
        try {
            call.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) return type.cast(t);
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", nothing was thrown");
    }

    @Test
    public void closedObjectsRefuseUseAndCloseTwiceIsFine() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        MessageProducer p = s.createProducer(q);
        MessageConsumer consumer = s.createConsumer(q);
        QueueBrowser b = s.createBrowser(q);
        assertEquals("connection, session, producer, consumer, browser", 5, provider.liveCount());

        p.close();
        p.close();
        assertThrows(IllegalStateException.class, () -> p.send(s.createTextMessage("x")));
        consumer.close();
        consumer.close();
        assertThrows(IllegalStateException.class, () -> consumer.receiveNoWait());

        // Closing the connection closes what is under it and releases every handle.
        c.close();
        c.close();
        assertEquals(0, provider.liveCount());
        assertThrows(IllegalStateException.class, () -> s.createTextMessage());
        assertThrows(IllegalStateException.class, () -> b.getEnumeration());
        assertThrows(IllegalStateException.class, () -> c.start());
        assertThrows(IllegalStateException.class, () -> c.createSession());
        s.close();
        b.close();
    }

    @Test
    public void classicInterfacesRefuseTheOtherDomain() throws Exception {
        QueueConnection qc = factory.createQueueConnection();
        opened.add(qc);
        QueueSession qs = qc.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = new HeraldTopic("t");
        assertThrows(IllegalStateException.class, () -> qs.createTopic("t"));
        assertThrows(IllegalStateException.class, () -> qs.createTemporaryTopic());
        assertThrows(IllegalStateException.class, () -> qs.createDurableSubscriber(t, "d"));
        assertThrows(IllegalStateException.class, () -> qs.createSharedConsumer(t, "s"));
        assertThrows(IllegalStateException.class, () -> qs.unsubscribe("d"));
        assertNotNull(qs.createReceiver(qs.createQueue("q")));

        TopicConnection tc = factory.createTopicConnection();
        opened.add(tc);
        TopicSession ts = tc.createTopicSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = new HeraldQueue("q");
        assertThrows(IllegalStateException.class, () -> ts.createQueue("q"));
        assertThrows(IllegalStateException.class, () -> ts.createTemporaryQueue());
        assertThrows(IllegalStateException.class, () -> ts.createBrowser(q));
        assertNotNull(ts.createSubscriber(ts.createTopic("t")));
        // Refused in the JMS layer: the provider never saw a consumer on the wrong domain.
        assertEquals(2, Collections.frequency(provider.calls(), "createConsumer"));
    }

    @Test
    public void receivedBodiesAreReadOnlyAndNewBytesMessagesWriteOnly() throws Exception {
        Connection c = connection();
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        TextMessage sent = s.createTextMessage("hello");
        sent.setStringProperty("colour", "blue");
        s.createProducer(q).send(sent);

        TextMessage got = (TextMessage) s.createConsumer(q).receive(1000);
        assertEquals("hello", got.getText());
        assertEquals("blue", got.getStringProperty("colour"));
        assertNotNull("send stamps an ID", got.getJMSMessageID());
        assertThrows(MessageNotWriteableException.class, () -> got.setText("changed"));
        assertThrows(MessageNotWriteableException.class, () -> got.setStringProperty("colour", "red"));
        got.clearBody();
        got.setText("changed");
        got.clearProperties();
        got.setStringProperty("colour", "red");

        BytesMessage b = s.createBytesMessage();
        b.writeInt(42);
        assertThrows(MessageNotReadableException.class, () -> b.readInt());
        b.reset();
        assertEquals(42, b.readInt());
        assertThrows(MessageNotWriteableException.class, () -> b.writeInt(1));
    }

    @Test
    public void transactionRulesAndRollbackRedelivers() throws Exception {
        Connection c = connection();
        c.start();
        Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThrows(IllegalStateException.class, () -> plain.commit());
        assertThrows(IllegalStateException.class, () -> plain.rollback());

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        assertTrue(tx.getTransacted());
        assertThrows(IllegalStateException.class, () -> tx.recover());
        Queue q = tx.createQueue("q");
        tx.createProducer(q).send(tx.createTextMessage("one"));
        assertEquals("a transacted send waits for commit", 0, provider.depth("queue://q"));
        tx.commit();
        assertEquals(1, provider.depth("queue://q"));

        MessageConsumer consumer = tx.createConsumer(q);
        Message first = consumer.receive(1000);
        assertFalse(first.getJMSRedelivered());
        int before = Collections.frequency(provider.calls(), "acknowledge");
        first.acknowledge(); // a no-op in a transacted session
        assertEquals(before, Collections.frequency(provider.calls(), "acknowledge"));
        tx.rollback();
        Message again = consumer.receive(1000);
        assertEquals("one", text(again));
        assertTrue(again.getJMSRedelivered());
        assertEquals(2, again.getIntProperty("JMSXDeliveryCount"));
        tx.commit();
        assertNull(consumer.receiveNoWait());
    }

    @Test
    public void commitAndRollbackNeedATransactedSession() throws Exception {
        Connection c = connection();
        for (int mode : new int[] {Session.AUTO_ACKNOWLEDGE, Session.CLIENT_ACKNOWLEDGE, Session.DUPS_OK_ACKNOWLEDGE}) {
            Session s = c.createSession(false, mode);
            assertFalse(s.getTransacted());
            assertThrows(IllegalStateException.class, s::commit);
            assertThrows(IllegalStateException.class, s::rollback);
            s.recover(); // legal in every acknowledge mode
        }
        try (JMSContext ctx = factory.createContext(JMSContext.AUTO_ACKNOWLEDGE)) {
            assertFalse(ctx.getTransacted());
            assertThrows(IllegalStateRuntimeException.class, ctx::commit);
            assertThrows(IllegalStateRuntimeException.class, ctx::rollback);
        }
    }

    @Test
    public void recoverIsRefusedOnATransactedSession() throws Exception {
        Session tx = connection().createSession(true, Session.SESSION_TRANSACTED);
        assertTrue(tx.getTransacted());
        assertEquals(Session.SESSION_TRANSACTED, tx.getAcknowledgeMode());
        assertThrows(IllegalStateException.class, tx::recover);
        try (JMSContext ctx = factory.createContext(JMSContext.SESSION_TRANSACTED)) {
            assertTrue(ctx.getTransacted());
            assertThrows(IllegalStateRuntimeException.class, ctx::recover);
        }
    }

    @Test
    public void commitAndRollbackAfterCloseAreRefused() throws Exception {
        Connection c = connection();
        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        tx.close();
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, tx::rollback);
        assertThrows(IllegalStateException.class, tx::getTransacted);

        Session underClosedConnection = c.createSession(true, Session.SESSION_TRANSACTED);
        c.close();
        assertThrows(IllegalStateException.class, underClosedConnection::commit);
        assertThrows(IllegalStateException.class, underClosedConnection::rollback);

        JMSContext ctx = factory.createContext(JMSContext.SESSION_TRANSACTED);
        ctx.close();
        assertThrows(IllegalStateRuntimeException.class, ctx::commit);
    }

    @Test
    public void rollbackDiscardsWhatWasSentSinceTheLastCommit() throws Exception {
        Connection c = connection();
        c.start();
        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        Queue q = tx.createQueue("q");
        MessageProducer p = tx.createProducer(q);
        p.send(tx.createTextMessage("kept"));
        tx.commit();
        p.send(tx.createTextMessage("dropped 1"));
        p.send(tx.createTextMessage("dropped 2"));
        tx.rollback();
        assertEquals(1, provider.depth("queue://q"));
        tx.commit(); // a new transaction, with nothing in it
        assertEquals(1, provider.depth("queue://q"));

        Session reader = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = reader.createConsumer(q);
        assertEquals("kept", text(consumer.receive(1000)));
        assertNull(consumer.receiveNoWait());
    }

    @Test
    public void closingATransactedSessionRollsItBack() throws Exception {
        Connection c = connection();
        c.start();
        Session setup = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue in = setup.createQueue("in");
        Queue out = setup.createQueue("out");
        setup.createProducer(in).send(setup.createTextMessage("work"));

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        assertEquals("work", text(tx.createConsumer(in).receive(1000)));
        tx.createProducer(out).send(tx.createTextMessage("result"));
        tx.close();
        assertEquals("the provider was asked to roll back", 1, Collections.frequency(provider.calls(), "rollback"));
        assertEquals("the uncommitted send is gone", 0, provider.depth("queue://out"));
        Message again = setup.createConsumer(in).receive(1000);
        assertEquals("the received message comes again", "work", text(again));
        assertTrue(again.getJMSRedelivered());

        // Closing the connection rolls back its transacted sessions too.
        Session open = c.createSession(true, Session.SESSION_TRANSACTED);
        open.createProducer(out).send(open.createTextMessage("never"));
        c.close();
        assertEquals(2, Collections.frequency(provider.calls(), "rollback"));
        assertEquals(0, provider.depth("queue://out"));
        assertEquals(0, provider.liveCount());
    }

    @Test
    public void aTransactedSessionClosesEvenWhenItsRollbackFails() throws Exception {
        Connection c = connection();
        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        tx.createProducer(tx.createQueue("q")).send(tx.createTextMessage("x"));
        provider.failNext("rollback", HeraldNativeException.IO, "socket closed");
        tx.close();
        assertEquals("connection only: the session's handle was released", 1, provider.liveCount());
        assertEquals(0, provider.depth("queue://q"));
        assertThrows(IllegalStateException.class, tx::commit);
    }

    @Test
    public void clientAcknowledgeRecoverRedeliversWhatWasNotAcknowledged() throws Exception {
        Connection c = connection();
        c.start();
        Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("a"));
        p.send(s.createTextMessage("b"));
        MessageConsumer consumer = s.createConsumer(q);
        assertEquals("a", text(consumer.receive(1000)));
        assertEquals("b", text(consumer.receive(1000)));
        s.recover();
        Message a = consumer.receive(1000);
        assertEquals("a", text(a));
        assertTrue(a.getJMSRedelivered());
        Message b = consumer.receive(1000);
        assertEquals("b", text(b));
        a.acknowledge(); // acknowledges every message the session received
        s.recover();
        assertNull(consumer.receiveNoWait());
    }

    @Test
    public void listenerAndReceiveAreExclusiveAndListenersWaitForStart() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        MessageConsumer consumer = s.createConsumer(q);
        LinkedBlockingQueue<String> heard = new LinkedBlockingQueue<>();
        consumer.setMessageListener(m -> {
            try {
                heard.add(((TextMessage) m).getText());
            } catch (JMSException e) {
                heard.add("error " + e);
            }
        });
        assertThrows(IllegalStateException.class, () -> consumer.receive(10));
        assertThrows(IllegalStateException.class, () -> consumer.receiveNoWait());

        s.createProducer(q).send(s.createTextMessage("hello"));
        assertNull("no delivery before start()", heard.poll(300, TimeUnit.MILLISECONDS));
        c.start();
        assertEquals("hello", heard.poll(5, TimeUnit.SECONDS));
        consumer.setMessageListener(null);
        assertNull(consumer.receiveNoWait());
    }

    @Test
    public void autoAcknowledgeListenerThatThrowsGetsTheMessageAgain() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        s.createProducer(q).send(s.createTextMessage("retry me"));
        LinkedBlockingQueue<Boolean> redelivered = new LinkedBlockingQueue<>();
        s.createConsumer(q).setMessageListener(m -> {
            try {
                redelivered.add(m.getJMSRedelivered());
                if (!m.getJMSRedelivered()) throw new RuntimeException("first attempt fails");
            } catch (JMSException e) {
                throw new RuntimeException(e);
            }
        });
        c.start();
        assertEquals(Boolean.FALSE, redelivered.poll(5, TimeUnit.SECONDS));
        assertEquals(Boolean.TRUE, redelivered.poll(5, TimeUnit.SECONDS));
        assertNull("acknowledged once onMessage returned", redelivered.poll(300, TimeUnit.MILLISECONDS));
        List<String> calls = provider.calls();
        assertTrue(calls.contains("recover"));
        assertTrue(calls.contains("acknowledgeHeld"));
    }

    @Test
    public void listenerMayCommitButNotCloseOrStopItsOwnSessionOrConnection() throws Exception {
        Connection c = connection();
        Session s = c.createSession(true, Session.SESSION_TRANSACTED);
        Queue q = s.createQueue("q");
        s.createProducer(q).send(s.createTextMessage("x"));
        s.commit();
        LinkedBlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        s.createConsumer(q).setMessageListener(m -> {
            for (JmsCall call : new JmsCall[] {s::close, c::close, c::stop, s::commit}) {
                try {
                    call.run();
                    outcomes.add("ok");
                } catch (Exception e) {
                    outcomes.add(e.getClass());
                }
            }
        });
        c.start();
        assertEquals(IllegalStateException.class, outcomes.poll(5, TimeUnit.SECONDS));
        assertEquals(IllegalStateException.class, outcomes.poll(5, TimeUnit.SECONDS));
        assertEquals(IllegalStateException.class, outcomes.poll(5, TimeUnit.SECONDS));
        assertEquals("commit() from a MessageListener is legal", "ok", outcomes.poll(5, TimeUnit.SECONDS));
        // Committed: closing the session gives nothing back for redelivery.
        s.close();
        assertEquals(0, provider.depth("queue://q"));
    }

    @Test
    public void completionListenerIsToldOnItsOwnThreadAndMayNotCommitOrClose() throws Exception {
        Connection c = connection();
        Session s = c.createSession(true, Session.SESSION_TRANSACTED);
        MessageProducer p = s.createProducer(s.createQueue("q"));
        assertThrows(IllegalArgumentException.class, () -> p.send(s.createTextMessage("x"), null));

        LinkedBlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        Thread sender = Thread.currentThread();
        p.send(s.createTextMessage("x"), new CompletionListener() {
            @Override public void onCompletion(Message m) {
                try {
                    outcomes.add(Thread.currentThread() != sender);
                    outcomes.add(m.getJMSMessageID() != null);
                } catch (JMSException e) {
                    outcomes.add(e);
                }
                for (JmsCall call : new JmsCall[] {s::commit, s::rollback, s::close, c::close}) {
                    try {
                        call.run();
                        outcomes.add("ok");
                    } catch (Exception e) {
                        outcomes.add(e.getClass());
                    }
                }
            }

            @Override public void onException(Message m, Exception e) {
                outcomes.add(e);
            }
        });
        assertEquals("told on another thread", Boolean.TRUE, outcomes.poll(5, TimeUnit.SECONDS));
        assertEquals("the message carries its ID", Boolean.TRUE, outcomes.poll(5, TimeUnit.SECONDS));
        for (int i = 0; i < 4; i++) {
            assertEquals(IllegalStateException.class, outcomes.poll(5, TimeUnit.SECONDS));
        }

        // A failed send reaches onException, converted, and is not thrown from send().
        provider.failNext("send", HeraldNativeException.RESOURCE_ALLOCATION, "queue full");
        AtomicReference<Exception> failure = new AtomicReference<>();
        CountDownLatch told = new CountDownLatch(1);
        p.send(s.createTextMessage("y"), new CompletionListener() {
            @Override public void onCompletion(Message m) {
                told.countDown();
            }

            @Override public void onException(Message m, Exception e) {
                failure.set(e);
                told.countDown();
            }
        });
        assertTrue(told.await(5, TimeUnit.SECONDS));
        assertTrue(String.valueOf(failure.get()), failure.get() instanceof ResourceAllocationException);
    }

    @Test
    public void jmsContextStartsItsConnectionWithTheFirstConsumerUnlessToldNotTo() throws Exception {
        try (JMSContext ctx = factory.createContext()) {
            Queue q = ctx.createQueue("q");
            ctx.createProducer().send(q, "hello");
            JMSConsumer consumer = ctx.createConsumer(q);
            assertEquals("hello", consumer.receiveBody(String.class, 1000));
        }
        try (JMSContext ctx = factory.createContext()) {
            ctx.setAutoStart(false);
            Queue q = ctx.createQueue("q2");
            ctx.createProducer().send(q, "later");
            JMSConsumer consumer = ctx.createConsumer(q);
            assertNull("not started", consumer.receiveBodyNoWait(String.class));
            ctx.start();
            assertEquals("later", consumer.receiveBody(String.class, 1000));
            ctx.close();
            assertThrows(IllegalStateRuntimeException.class, () -> ctx.createQueue("q"));
        }
        assertEquals(0, provider.liveCount());
    }

    /** Each provider failure kind arrives as its JMS exception class, the cause linked. */
    @Test
    public void providerFailuresBecomeTheirJmsExceptions() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        MessageProducer p = s.createProducer(q);

        provider.failNext("createConsumer", HeraldNativeException.INVALID_SELECTOR, "bad selector");
        JMSException e = assertThrows(InvalidSelectorException.class, () -> s.createConsumer(q, "a ="));
        assertEquals("bad selector", e.getMessage());
        assertTrue(e.getLinkedException() instanceof HeraldNativeException);
        assertSame(e.getLinkedException(), e.getCause());

        provider.failNext("send", HeraldNativeException.INVALID_DESTINATION, "no such queue");
        assertThrows(InvalidDestinationException.class, () -> p.send(s.createTextMessage("x")));
        provider.failNext("send", HeraldNativeException.MESSAGE_FORMAT, "too big");
        assertThrows(MessageFormatException.class, () -> p.send(s.createTextMessage("x")));
        provider.failNext("send", HeraldNativeException.RESOURCE_ALLOCATION, "full");
        assertThrows(ResourceAllocationException.class, () -> p.send(s.createTextMessage("x")));
        provider.failNext("createProducer", HeraldNativeException.SECURITY, "not allowed");
        assertThrows(JMSSecurityException.class, () -> s.createProducer(q));
        provider.failNext("openConnection", HeraldNativeException.SECURITY, "bad password");
        assertThrows(JMSSecurityException.class, () -> factory.createConnection("u", "p"));
        provider.failNext("setClientId", HeraldNativeException.INVALID_CLIENT_ID, "in use");
        assertThrows(InvalidClientIDException.class, () -> connection().setClientID("dup"));

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        provider.failNext("commit", HeraldNativeException.TRANSACTION_ROLLED_BACK, "rolled back");
        assertThrows(TransactionRolledBackException.class, tx::commit);

        provider.failNext("start", HeraldNativeException.IO, "socket closed");
        JMSException io = assertThrows(JMSException.class, c::start);
        assertEquals("a plain JMSException for I/O", JMSException.class, io.getClass());
        assertEquals("HERALD-" + HeraldNativeException.IO, io.getErrorCode());

        try (JMSContext ctx = factory.createContext(JMSContext.SESSION_TRANSACTED)) {
            ctx.createQueue("q");
            provider.failNext("commit", HeraldNativeException.TRANSACTION_ROLLED_BACK, "rolled back");
            assertThrows(TransactionRolledBackRuntimeException.class, ctx::commit);
        }
        assertEquals("a failed call leaves the objects usable", "hello", sendAndReceive(c, "hello"));
    }

    private String sendAndReceive(Connection c, String body) throws JMSException {
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("echo");
        s.createProducer(q).send(s.createTextMessage(body));
        c.start();
        return text(s.createConsumer(q).receive(1000));
    }

    @Test
    public void clientIdIsFixedOnceTheConnectionIsUsed() throws Exception {
        Connection c = connection();
        c.setClientID("app-1");
        assertEquals("app-1", c.getClientID());
        assertThrows(IllegalStateException.class, () -> c.setClientID("app-2"));

        Connection used = connection();
        used.createSession();
        assertThrows(IllegalStateException.class, () -> used.setClientID("late"));
        assertThrows(InvalidClientIDException.class, () -> connection().setClientID(""));
        // The provider decides that an ID is taken.
        assertThrows(InvalidClientIDException.class, () -> connection().setClientID("app-1"));
    }

    @Test
    public void exceptionListenerHearsALostConnectionOnceAndNotAClose() throws Exception {
        Connection c = connection();
        LinkedBlockingQueue<JMSException> heard = new LinkedBlockingQueue<>();
        c.setExceptionListener(heard::add);
        provider.loseConnections("server gone");
        JMSException lost = heard.poll(5, TimeUnit.SECONDS);
        assertNotNull(lost);
        assertEquals("HERALD-CONNECTION-LOST", lost.getErrorCode());
        assertEquals("server gone", lost.getMessage());
        assertTrue(lost.getLinkedException() instanceof JMSException);
        assertNull("told once", heard.poll(300, TimeUnit.MILLISECONDS));

        Connection quiet = connection();
        ExceptionListener l = heard::add;
        quiet.setExceptionListener(l);
        quiet.close();
        assertNull("a close is not a failure", heard.poll(300, TimeUnit.MILLISECONDS));
    }

    @Test
    public void onlyTheCreatingConnectionConsumesFromItsTemporaryQueue() throws Exception {
        Connection owner = connection();
        owner.start();
        Session s = owner.createSession(false, Session.AUTO_ACKNOWLEDGE);
        TemporaryQueue reply = s.createTemporaryQueue();
        Session other = connection().createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThrows(IllegalStateException.class, () -> other.createConsumer(reply));
        // Anyone may send to it.
        other.createProducer(reply).send(other.createTextMessage("answer"));
        MessageConsumer consumer = s.createConsumer(reply);
        assertEquals("answer", text(consumer.receive(1000)));
        // The provider refuses to delete it while it has a consumer.
        assertThrows(IllegalStateException.class, reply::delete);
        consumer.close();
        reply.delete();
        assertThrows(InvalidDestinationException.class, () -> other.createProducer(reply).send(other.createTextMessage("late")));
    }

    @Test
    public void browserSeesMessagesWithoutTakingThem() throws Exception {
        Connection c = connection();
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("q");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("1"));
        p.send(s.createTextMessage("2"));
        QueueBrowser b = s.createBrowser(q);
        List<String> seen = new ArrayList<>();
        for (java.util.Enumeration<?> e = b.getEnumeration(); e.hasMoreElements();) {
            seen.add(text((Message) e.nextElement()));
        }
        assertEquals(java.util.Arrays.asList("1", "2"), seen);
        assertEquals(2, provider.depth("queue://q"));
        assertThrows(InvalidDestinationException.class, () -> s.createBrowser(null));
    }
}
