package io.herald.jms;

import static org.junit.Assert.*;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import javax.jms.TransactionRolledBackException;

import org.junit.Assume;
import org.junit.Test;

/** What an application sees when something fails: a commit, the connection to the server. */
public class FailureTest extends JmsTestBase {

    @Test
    public void aCommitThatFailsThrowsTransactionRolledBackAndRollsBack() throws Exception {
        Connection c = connection();
        Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue source = plain.createQueue("commit-fails-source");
        plain.createProducer(source).send(plain.createTextMessage("received in the transaction"));

        Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer consumer = tx.createConsumer(source);
        assertEquals("received in the transaction", ((TextMessage) consumer.receive(2000)).getText());
        TemporaryQueue vanishing = plain.createTemporaryQueue();
        tx.createProducer(vanishing).send(tx.createTextMessage("sent in the transaction"));
        vanishing.delete();
        try {
            tx.commit();
            fail("commit succeeded although a send's destination was deleted");
        } catch (TransactionRolledBackException expected) {
            assertNotNull(expected.getMessage());
        }

        // The receive was rolled back too: the message comes again, marked redelivered.
        Message again = consumer.receive(2000);
        assertNotNull("the received message was returned by the rollback", again);
        assertEquals("received in the transaction", ((TextMessage) again).getText());
        assertTrue(again.getJMSRedelivered());
        // The session goes on working.
        tx.commit();
        assertNull(consumer.receive(200));
    }

    @Test
    public void theExceptionListenerHearsWhenTheServerGoesAway() throws Exception {
        Assume.assumeTrue("a vm:// connection cannot be lost", transport.equals("tcp"));
        Connection c = connection();
        BlockingQueue<JMSException> heard = new ArrayBlockingQueue<>(10);
        c.setExceptionListener(heard::add);
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("before-the-crash");
        s.createProducer(q).send(s.createTextMessage("delivered"));
        assertNotNull(s.createConsumer(q).receive(2000));

        long killedAt = System.nanoTime();
        broker.kill();
        JMSException e = heard.poll(10, TimeUnit.SECONDS);
        assertNotNull("the ExceptionListener was called after the server died", e);
        // Promptly: the failure wakes the listener's thread; nothing waits for a heartbeat.
        long afterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        assertTrue("the listener heard " + afterMillis + " ms after the kill", afterMillis < 5000);
        assertTrue(e.getMessage(), e.getMessage().contains("lost"));
        assertEquals("HERALD-CONNECTION-LOST", e.getErrorCode());
        assertTrue("it tells the application what to do: " + e.getMessage(),
                e.getMessage().contains("Herald does not reconnect") && e.getMessage().contains("create a new connection"));
        assertNotNull("the cause is linked", e.getLinkedException());
        assertSame(e.getLinkedException(), e.getCause());
        assertNull("it is called once", heard.poll(1, TimeUnit.SECONDS));
        try {
            s.createProducer(q).send(s.createTextMessage("after the crash"));
            fail("a send over a lost connection succeeded");
        } catch (JMSException expected) {
            // The JVM is still here, and the call says the same as the listener heard.
            assertTrue(expected.getMessage(), expected.getMessage().contains("create a new connection"));
        }
        c.close();
    }

    @Test
    public void theExceptionListenerThreadEndsWhenTheConnectionCloses() throws Exception {
        Set<Thread> before = watcherThreads();
        Connection c = factory.createConnection();
        c.setExceptionListener(e -> {});
        Set<Thread> mine = watcherThreads();
        mine.removeAll(before);
        assertEquals("setting an ExceptionListener starts one watcher thread", 1, mine.size());
        Thread watcher = mine.iterator().next();
        assertTrue("the watcher is a daemon thread", watcher.isDaemon());
        c.close();
        watcher.join(5000);
        assertFalse("closing the connection ends its watcher thread", watcher.isAlive());
    }

    private static Set<Thread> watcherThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("herald-connection-watch") && t.isAlive())
                .collect(Collectors.toCollection(HashSet::new));
    }

    @Test
    public void aClosedConnectionDoesNotCallItsExceptionListener() throws Exception {
        Connection c = factory.createConnection();
        BlockingQueue<JMSException> heard = new ArrayBlockingQueue<>(10);
        c.setExceptionListener(heard::add);
        c.start();
        c.close();
        assertNull(heard.poll(1, TimeUnit.SECONDS));
    }
}
