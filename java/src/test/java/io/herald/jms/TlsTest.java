package io.herald.jms;

import static org.junit.Assert.*;

import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * {@code tcps://} through the jar: a herald server with a TLS listener and the
 * repository's test certificate (skipped until the server is built).
 */
public class TlsTest {
    private static BrokerTarget server;

    @BeforeClass
    public static void startServer() throws Exception {
        server = BrokerTarget.serveTls();
    }

    @AfterClass
    public static void stopServer() throws Exception {
        if (server != null) server.close();
    }

    private static String trusting(String caFile) {
        return server.url + "?ca=" + BrokerTarget.tlsFile(caFile).getAbsolutePath();
    }

    @Test
    public void messagesTravelOverTlsToAClientThatTrustsTheServersCa() throws Exception {
        try (Connection c = new HeraldConnectionFactory(trusting("ca.pem")).createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("tls.orders");
            MessageProducer p = s.createProducer(q);
            MessageConsumer consumer = s.createConsumer(q);
            for (int i = 0; i < 50; i++) {
                p.send(s.createTextMessage("order " + i));
            }
            for (int i = 0; i < 50; i++) {
                TextMessage m = (TextMessage) consumer.receive(5000);
                assertNotNull("message " + i + " did not arrive", m);
                assertEquals("order " + i, m.getText());
            }
            assertNull(consumer.receiveNoWait());
        }
    }

    @Test
    public void aServerSignedByAnUntrustedCaIsASecurityException() {
        try (Connection c = new HeraldConnectionFactory(trusting("other-ca.pem")).createConnection()) {
            fail("connected to a server whose certificate no trusted CA signed");
        } catch (JMSSecurityException expected) {
            assertNotNull(expected.getMessage());
        } catch (JMSException other) {
            fail("expected a JMSSecurityException, got " + other);
        }
    }

    @Test
    public void plainTcpToATlsListenerFailsWithAnError() {
        String plain = server.url.replace("tcps://", "tcp://");
        try (Connection c = new HeraldConnectionFactory(plain).createConnection()) {
            fail("a plain connection to a TLS listener succeeded");
        } catch (JMSException expected) {
            assertNotNull(expected.getMessage());
        }
    }
}
