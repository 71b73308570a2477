package io.herald.jms;

import static org.junit.Assert.*;

import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.JMSSecurityRuntimeException;
import javax.jms.JMSContext;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * A herald server with users and permissions: bad credentials and forbidden operations
 * arrive as JMSSecurityException (tcp:// only; skipped until the server is built).
 */
public class SecurityTest {
    private static BrokerTarget server;

    @BeforeClass
    public static void startServer() throws Exception {
        String config = "[[user]]\n"
                + "name = \"alice\"\n"
                + "password_hash = \"" + BrokerTarget.passwordHash("wonderland") + "\"\n"
                + "[[user]]\n"
                + "name = \"bob\"\n"
                + "password_hash = \"" + BrokerTarget.passwordHash("builder") + "\"\n"
                + "[[permission]]\n"
                + "users = [\"alice\"]\n"
                + "destinations = [\"queue://shared*\"]\n"
                + "allow = [\"send\", \"consume\", \"browse\"]\n"
                + "[[permission]]\n"
                + "users = [\"bob\"]\n"
                + "destinations = [\"queue://shared*\"]\n"
                + "allow = [\"consume\"]\n";
        server = BrokerTarget.serve(config);
    }

    @AfterClass
    public static void stopServer() throws Exception {
        if (server != null) server.close();
    }

    private static void assertRefused(String user, String password) {
        try (Connection c = new HeraldConnectionFactory(server.url).createConnection(user, password)) {
            fail("connected as " + user + " with password " + password);
        } catch (JMSSecurityException expected) {
            assertNotNull(expected.getMessage());
        } catch (JMSException other) {
            fail("expected a JMSSecurityException, got " + other);
        }
    }

    @Test
    public void badCredentialsAreRefusedWithJmsSecurityException() {
        assertRefused(null, null);
        assertRefused("alice", "wrong");
        assertRefused("mallory", "wonderland");
        try (JMSContext ctx = new HeraldConnectionFactory(server.url).createContext("alice", "wrong")) {
            fail("a context with a wrong password was created");
        } catch (JMSSecurityRuntimeException expected) {
            // the simplified API's unchecked twin
        }
    }

    @Test
    public void aPermittedUserSendsAndReceives() throws Exception {
        // Credentials in the URL work as well as in createConnection(user, password).
        HeraldConnectionFactory f = new HeraldConnectionFactory(server.url + "?user=alice&password=wonderland");
        try (Connection c = f.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("shared-inbox");
            s.createProducer(q).send(s.createTextMessage("for bob"));
        }
        try (Connection c = new HeraldConnectionFactory(server.url).createConnection("bob", "builder")) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage m = (TextMessage) s.createConsumer(s.createQueue("shared-inbox")).receive(5000);
            assertNotNull(m);
            assertEquals("for bob", m.getText());
        }
    }

    @Test
    public void forbiddenOperationsThrowJmsSecurityException() throws Exception {
        try (Connection c = new HeraldConnectionFactory(server.url).createConnection("bob", "builder")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            try {
                MessageProducer p = s.createProducer(s.createQueue("shared-inbox"));
                p.send(s.createTextMessage("bob may only consume"));
                fail("bob sent without the send permission");
            } catch (JMSSecurityException expected) {
                // refused
            }
        }
        try (Connection c = new HeraldConnectionFactory(server.url).createConnection("alice", "wonderland")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue elsewhere = s.createQueue("private");
            try {
                s.createProducer(elsewhere).send(s.createTextMessage("not allowed here"));
                fail("alice sent to a queue outside her permissions");
            } catch (JMSSecurityException expected) {
                // refused
            }
            try {
                s.createConsumer(elsewhere).receive(500);
                fail("alice consumed from a queue outside her permissions");
            } catch (JMSSecurityException expected) {
                // refused
            }
        }
    }
}
